import {TunnelctlError} from '../../errors.js'
import type {KeptAlive} from '../../process/kept-alive.js'
import {type Provider, type ProviderContext, type Publication, type PublishRequest, startTimeoutMs} from '../provider.js'
import type {ExposeMode} from '../../protocol/endpoints.js'
import {startCustomCommand} from './custom-command.js'

/** Long enough for an ssh login over a slow link; a command silent for this long is stuck. */
const START_TIMEOUT_MS = 30_000
/** ssh and tunnel clients like it close their connection and exit at once on SIGTERM; one that takes longer is hung. */
const STOP_GRACE_MS = 3000
/** 'private' promises that only the user's own network can reach the URL: of any command's URL, tunnelctl cannot know that. */
const MODES: readonly ExposeMode[] = ['public']

const EXAMPLES = {
  command: "'ssh -N -R 0:127.0.0.1:{port} tunnel.example.com'",
  match: "'Allocated port (\\d+) for remote forward'",
}

/**
 * A provider of the user's own: custom.<name>.command runs once per endpoint, kept alive, and the
 * first line of its output that custom.<name>.match finds gives the URL, through custom.<name>.url.
 */
export function createCustomProvider(context: ProviderContext, name: string): Provider {
  const running = new Map<string, KeptAlive<Publication>>()
  let closed = false
  const setting = (part: 'command' | 'match' | 'url'): string | undefined => context.settings.get(`custom.${name}.${part}`) as string | undefined

  function unavailable(): string | undefined {
    const unset = (['command', 'match'] as const).filter((part) => setting(part) === undefined)
    if (unset.length === 0) return undefined
    const how = unset.map((part) => `\`tunnelctl config set custom.${name}.${part} ${EXAMPLES[part]}\``)
    const keys = unset.map((part) => `custom.${name}.${part}`).join(' and ')
    return `${keys} ${unset.length > 1 ? 'are' : 'is'} not set; set ${unset.length > 1 ? 'them' : 'it'} with ${how.join(' and ')}.`
  }

  async function publish(request: PublishRequest): Promise<Publication> {
    const {id, searchPath, onState} = request
    if (closed) throw stopping()
    const why = unavailable()
    if (why) throw new TunnelctlError('PROVIDER_UNAVAILABLE', `The ${name} provider is not available: ${why}`)
    await unpublish(id)
    // Read once: a restart runs what was published, not a half-edited configuration.
    const command = (setting('command') as string).replaceAll('{port}', String(context.proxyPort()))
    const match = new RegExp(setting('match') as string)
    const urlTemplate = setting('url') as string
    const kept = context.keepAlive<Publication>({
      owner: {kind: 'provider', provider: name, endpoint: id},
      stopGraceMs: STOP_GRACE_MS,
      start: (onSpawn, signal, restart) =>
        startCustomCommand({
          name,
          command,
          match,
          urlTemplate,
          timeoutMs: startTimeoutMs(request, restart, START_TIMEOUT_MS),
          searchPath,
          stopGraceMs: STOP_GRACE_MS,
          signal,
          onSpawn,
        }),
      // A restarted command may well print another URL (ssh -R 0 gets a new port): the caller must hear it.
      onUp: (publication, restarts) => onState({status: 'up', publication, restarts}),
      onDown: ({restarts, reason}) => onState({status: 'restarting', restarts, reason}),
      onFailed: ({restarts, reason}) => onState({status: 'failed', restarts, reason}),
      onRecovered: (restarts) => onState({status: 'recovered', restarts}),
    })
    running.set(id, kept)
    try {
      return await kept.firstUp
    } catch (error) {
      if (running.get(id) === kept) running.delete(id)
      throw error
    }
  }

  async function unpublish(id: string): Promise<void> {
    const kept = running.get(id)
    running.delete(id)
    await kept?.stop(closed ? stopping() : new TunnelctlError('TUNNEL_FAILED', `Endpoint ${id} was unpublished before its command printed a URL.`))
  }

  function stopping(): TunnelctlError {
    return new TunnelctlError('SUPERVISOR_STOPPING', `The ${name} provider was closed while an endpoint was being published.`)
  }

  return {
    name,
    modes: MODES,
    unavailable: async () => unavailable(),
    publish,
    unpublish,
    async close() {
      closed = true
      await Promise.all([...running.keys()].map(unpublish))
    },
  }
}
