import {join} from 'node:path'
import {TunnelctlError} from '../../errors.js'
import {DEFAULT_START_TIMEOUT_MS} from '../../protocol/start-options.js'
import type {KeepAliveOptions, KeptAlive} from '../../process/kept-alive.js'
import {type Provider, type ProviderContext, type Publication, type PublishRequest, startTimeoutMs} from '../provider.js'
import {findCloudflared} from './cloudflared-binary.js'
import {CLOUDFLARED_STOP_GRACE_MS} from './cloudflared-process.js'
import {startNamedTunnel} from './named-tunnel.js'
import {startQuickTunnel} from './quick-tunnel.js'

/** As long as `tunnel start` waits by default. */
const START_TIMEOUT_MS = DEFAULT_START_TIMEOUT_MS
// The same for every quick tunnel, so one file serves them all.
const QUICK_CONFIG = 'cloudflared-quick.yml'
const NAMED_CONFIG = 'cloudflared-named.yml'

interface NamedEndpoint {
  request: PublishRequest
  publication: Publication
}

/**
 * Publishes through cloudflared. Without a tunnel token, each endpoint gets a quick tunnel of its
 * own, `https://<random>.trycloudflare.com`, and a new one whenever its cloudflared restarts. With
 * cloudflare.token and cloudflare.domain, one named tunnel carries every endpoint, each as
 * `https://<name>.<domain>`: it starts with the first endpoint and stops with the last.
 */
export function createCloudflareProvider(context: ProviderContext): Provider {
  /** Endpoint id → its own quick tunnel. */
  const quick = new Map<string, KeptAlive<Publication>>()
  /** Endpoint id → its hostname on the named tunnel. */
  const named = new Map<string, NamedEndpoint>()
  /** The named tunnel's process, while any endpoint is on it. */
  let shared: KeptAlive<void> | undefined
  let closed = false

  const setting = (key: 'cloudflare.token' | 'cloudflare.domain'): string | undefined => context.settings.get(key) as string | undefined

  async function unavailable(searchPath?: string): Promise<string | undefined> {
    try {
      await findCloudflared(searchPath, context.cloudflared)
    } catch (error) {
      return (error as Error).message
    }

    const token = setting('cloudflare.token')
    const domain = setting('cloudflare.domain')
    if (token && !domain) {
      return 'cloudflare.token is set but cloudflare.domain is not. Set the domain routed to the tunnel with `tunnelctl config set cloudflare.domain example.com`, or unset cloudflare.token to use quick tunnels.'
    }

    if (domain && !token) {
      return 'cloudflare.domain is set but cloudflare.token is not. Set the tunnel\'s token with `tunnelctl config set cloudflare.token <token>` (`cloudflared tunnel token <tunnel>` prints it), or unset cloudflare.domain to use quick tunnels.'
    }

    return undefined
  }

  async function publish(request: PublishRequest): Promise<Publication> {
    if (closed) throw stopping()
    const why = await unavailable(request.searchPath)
    if (why) throw new TunnelctlError('PROVIDER_UNAVAILABLE', `The cloudflare provider is not available: ${why}`)
    await unpublish(request.id)
    const token = setting('cloudflare.token')
    const domain = setting('cloudflare.domain')
    return token && domain ? publishNamed(request, token, domain) : publishQuick(request)
  }

  async function publishQuick(request: PublishRequest): Promise<Publication> {
    const run = keepRunning<Publication>({
      owner: {kind: 'provider', provider: 'cloudflare', endpoint: request.id},
      async start(onSpawn, signal, restart) {
        const configFile = join(context.runtimeDir, QUICK_CONFIG)
        const timeoutMs = startTimeoutMs(request, restart, START_TIMEOUT_MS)
        const {searchPath} = request
        const tunnel = await startQuickTunnel({port: context.proxyPort('cf-connecting-ip'), timeoutMs, searchPath, cloudflared: context.cloudflared, configFile, signal, onSpawn})
        // cloudflared forwards with Host <sub>.trycloudflare.com: the hostname is the route.
        return {process: tunnel.process, value: {url: tunnel.url, host: new URL(tunnel.url).host}}
      },
      // A restart brings a new hostname: the proxy must route the new one.
      onUp: (publication, restarts) => request.onState({status: 'up', publication, restarts}),
      onDown: ({restarts, reason}) => request.onState({status: 'restarting', restarts, reason}),
      onFailed: ({restarts, reason}) => request.onState({status: 'failed', restarts, reason}),
      onRecovered: (restarts) => request.onState({status: 'recovered', restarts}),
    })
    quick.set(request.id, run)
    try {
      return await run.firstUp
    } catch (error) {
      if (quick.get(request.id) === run) quick.delete(request.id)
      throw error
    }
  }

  async function publishNamed(request: PublishRequest, token: string, domain: string): Promise<Publication> {
    const host = `${request.name}.${domain}`
    const holder = [...named].find(([, endpoint]) => endpoint.publication.host === host)
    if (holder) {
      throw new TunnelctlError('CONFLICT', `${host} is already published by endpoint ${holder[0]}. Give this endpoint another name, or stop that one first.`)
    }

    const endpoint: NamedEndpoint = {request, publication: {url: `https://${host}`, host}}
    named.set(request.id, endpoint)
    const run = (shared ??= startShared(token, request))
    try {
      await run.firstUp
    } catch (error) {
      if (shared === run) shared = undefined
      if (named.get(request.id) !== endpoint) throw gone(request.id)
      named.delete(request.id)
      throw error
    }

    if (named.get(request.id) !== endpoint) throw gone(request.id)
    return endpoint.publication
  }

  /**
   * The named tunnel: every endpoint on it hears when it goes down and comes back, under the same
   * hostname. Its cloudflared is the one the search path of the endpoint that started it finds.
   */
  function startShared(token: string, first: PublishRequest): KeptAlive<void> {
    return keepRunning<void>({
      owner: {kind: 'provider', provider: 'cloudflare'},
      async start(onSpawn, signal, restart) {
        const configFile = join(context.runtimeDir, NAMED_CONFIG)
        const timeoutMs = startTimeoutMs(first, restart, START_TIMEOUT_MS)
        const proxyPort = context.proxyPort('cf-connecting-ip')
        const child = await startNamedTunnel({token, proxyPort, configFile, timeoutMs, searchPath: first.searchPath, cloudflared: context.cloudflared, signal, onSpawn})
        return {process: child, value: undefined}
      },
      onUp(_, restarts) {
        for (const {request, publication} of named.values()) request.onState({status: 'up', publication, restarts})
      },
      onDown({restarts, reason}) {
        for (const {request} of named.values()) request.onState({status: 'restarting', restarts, reason})
      },
      onFailed({restarts, reason}) {
        for (const {request} of named.values()) request.onState({status: 'failed', restarts, reason})
      },
      onRecovered(restarts) {
        for (const {request} of named.values()) request.onState({status: 'recovered', restarts})
      },
    })
  }

  function keepRunning<T>(options: Omit<KeepAliveOptions<T>, 'stopGraceMs'>): KeptAlive<T> {
    return context.keepAlive<T>({...options, stopGraceMs: CLOUDFLARED_STOP_GRACE_MS})
  }

  async function unpublish(id: string): Promise<void> {
    const run = quick.get(id)
    quick.delete(id)
    await run?.stop(gone(id))
    if (!named.delete(id) || named.size > 0) return
    const last = shared
    shared = undefined
    await last?.stop(gone(id))
  }

  function gone(id: string): TunnelctlError {
    return closed ? stopping() : new TunnelctlError('TUNNEL_FAILED', `Endpoint ${id} was unpublished before its tunnel was up.`)
  }

  return {
    name: 'cloudflare',
    modes: ['public'],
    unavailable,
    publish,
    unpublish,
    async close() {
      closed = true
      const runs = [...quick.values(), shared]
      quick.clear()
      named.clear()
      shared = undefined
      await Promise.all(runs.map((run) => run?.stop(stopping())))
    },
  }
}

function stopping(): TunnelctlError {
  return new TunnelctlError('SUPERVISOR_STOPPING', 'The supervisor is shutting down; the endpoint is published again when it next starts.')
}
