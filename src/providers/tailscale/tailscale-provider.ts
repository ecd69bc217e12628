import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {writeFileAtomically} from '../../atomic-file.js'
import {TunnelctlError} from '../../errors.js'
import type {Provider, ProviderContext, Publication, PublishRequest} from '../provider.js'
import type {ExposeMode} from '../../protocol/endpoints.js'
import {whyNodeCannotServe} from './node-status.js'
import {describePort, type ServeConfig, servesOnly} from './serve-config.js'
import {findTailscale, TAILSCALE_INSTALL_HELP} from './tailscale-binary.js'
import {type CliResult, quote, TailscaleCli, TAILSCALE_TIMEOUT_MS} from './tailscale-cli.js'

const HTTPS_PORT = 443

/** What tunnelctl added to the node's serve config, kept on disk so that a successor can tell it apart from the user's own. */
interface ServeRecord {
  domain: string
  target: string
}

/**
 * Publishes the proxy with `tailscale serve` (tailnet only) or `tailscale funnel` (public) at
 * https://<node's MagicDNS name>, in the background: tailscaled holds the config, no process is kept.
 * A node has one such name, so one endpoint at a time; whatever else the node serves is left alone.
 */
class TailscaleProvider implements Provider {
  readonly name = 'tailscale'
  readonly modes: readonly ExposeMode[] = ['private', 'public']
  private readonly target: string
  private readonly recordFile: string
  /** With the CLI it was published with: the one to take it down with. */
  private published: {id: string; domain: string; cli: TailscaleCli} | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(context: ProviderContext) {
    // serve sets X-Forwarded-For to the address of the peer (or, through Funnel, of the client),
    // replacing any the visitor sent (ipn/ipnlocal/serve.go, addProxyForwardedHeaders).
    this.target = `http://127.0.0.1:${context.proxyPort('x-forwarded-for')}`
    this.recordFile = join(context.runtimeDir, 'tailscale-serve.json')
  }

  async unavailable(searchPath?: string): Promise<string | undefined> {
    try {
      await this.node(searchPath)
      return undefined
    } catch (error) {
      if (error instanceof TunnelctlError) return error.message
      throw error
    }
  }

  publish(request: PublishRequest): Promise<Publication> {
    return this.exclusive(() => this.serve(request))
  }

  unpublish(id: string): Promise<void> {
    return this.exclusive(async () => {
      if (this.published?.id === id) await this.takeDown()
    })
  }

  close(): Promise<void> {
    return this.exclusive(() => this.takeDown())
  }

  // Each operation reads the serve config and then changes it: two at once would each judge a config
  // the other is changing.
  private exclusive<T>(action: () => Promise<T>): Promise<T> {
    const run = this.queue.then(action)
    this.queue = run.catch(() => {})
    return run
  }

  private async cli(searchPath: string | undefined): Promise<TailscaleCli> {
    const binary = await findTailscale(searchPath)
    if (!binary) throw new TunnelctlError('PROVIDER_UNAVAILABLE', TAILSCALE_INSTALL_HELP)
    return new TailscaleCli(binary, searchPath)
  }

  /** The CLI and this node's name; throws PROVIDER_UNAVAILABLE saying what to do when the node cannot serve. */
  private async node(searchPath: string | undefined): Promise<{cli: TailscaleCli; domain: string}> {
    const cli = await this.cli(searchPath)
    const status = await cli.status()
    const problem = whyNodeCannotServe(status)
    if (problem) throw new TunnelctlError('PROVIDER_UNAVAILABLE', problem)
    return {cli, domain: status.domain}
  }

  private async serve({id, mode, searchPath}: PublishRequest): Promise<Publication> {
    if (this.published) {
      const other = this.published
      throw new TunnelctlError(
        'CONFLICT',
        `tailscale serves one endpoint per node, and endpoint ${other.id} already has https://${other.domain}. Stop it with \`tunnelctl expose stop ${other.id}\` first, or publish this one with another provider.`,
      )
    }

    const {cli, domain} = await this.node(searchPath)
    const found = await cli.serveConfig()
    const taken = describePort(found, HTTPS_PORT)
    if (taken && !(await this.isLeftOver(found, domain))) {
      throw new TunnelctlError(
        'CONFLICT',
        `Port ${HTTPS_PORT} of this tailscale node is already served (${taken}), and tunnelctl leaves the node's serve config as it finds it. If you no longer need that, remove it with \`tailscale serve --https=${HTTPS_PORT} off\`, then try again.`,
      )
    }

    // Recorded first, so that a supervisor killed in the middle leaves its successor able to recognise it.
    await writeFileAtomically(this.recordFile, JSON.stringify({domain, target: this.target} satisfies ServeRecord))
    const command = mode === 'public' ? 'funnel' : 'serve'
    try {
      const result = await cli.change([command, '--bg', '--yes', `--https=${HTTPS_PORT}`, this.target])
      const served = result.ok && servesOnly(await cli.serveConfig(), domain, HTTPS_PORT, this.target, mode === 'public')
      if (!served) throw new TunnelctlError('TUNNEL_FAILED', failureMessage(command, domain, result))
    } catch (error) {
      await rm(this.recordFile, {force: true})
      throw error
    }

    this.published = {id, domain, cli}
    return {url: `https://${domain}`, host: domain}
  }

  /** Port 443 holds what a predecessor of this supervisor added and could not take down (it was killed). */
  private async isLeftOver(config: ServeConfig, domain: string): Promise<boolean> {
    const record = await readRecord(this.recordFile)
    return record?.domain === domain && servesOnly(config, domain, HTTPS_PORT, record.target)
  }

  /** Turns off what serve() added, unless someone has put something else there since. */
  private async takeDown(): Promise<void> {
    if (!this.published) return
    const {domain, cli} = this.published
    this.published = undefined
    if (servesOnly(await cli.serveConfig(), domain, HTTPS_PORT, this.target)) {
      // serve's off, for funnel too: it drops the port's Funnel flag with its handler, where funnel's
      // off first re-checks that Funnel is enabled for the tailnet and stalls or does nothing if not.
      const result = await cli.change(['serve', `--https=${HTTPS_PORT}`, 'off'])
      if (!result.ok && !/handler does not exist/.test(result.stderr)) {
        throw new TunnelctlError('TUNNEL_FAILED', `Could not turn off https://${domain} (\`tailscale serve --https=${HTTPS_PORT} off\`): ${quote(result.stderr)}`)
      }
    }

    await rm(this.recordFile, {force: true})
  }
}

export function createTailscaleProvider(context: ProviderContext): Provider {
  return new TailscaleProvider(context)
}

async function readRecord(file: string): Promise<ServeRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as Partial<ServeRecord>
    return typeof record.domain === 'string' && typeof record.target === 'string' ? (record as ServeRecord) : undefined
  } catch {
    return undefined
  }
}

function failureMessage(command: string, domain: string, result: CliResult): string {
  const invocation = `\`tailscale ${command} --bg --https=${HTTPS_PORT}\``
  if (result.timedOut) {
    return `${invocation} gave no answer within ${TAILSCALE_TIMEOUT_MS / 1000} s; it waits like this for a feature to be enabled for the tailnet. It said:\n${quote(result.stdout)}\n${enableHint(command)}`
  }

  if (!result.ok) return `${invocation} failed:\n${quote(`${result.stderr}\n${result.stdout}`)}`
  // It exits 0 after printing where to enable a feature, having changed nothing.
  return `${invocation} left https://${domain} unserved. It said:\n${quote(result.stdout)}\n${enableHint(command)}`
}

function enableHint(command: string): string {
  const https = 'HTTPS certificates must be on for the tailnet (https://login.tailscale.com/admin/dns)'
  return command === 'funnel'
    ? `${https}, and Funnel allowed for this node (https://tailscale.com/kb/1223/funnel); then try again.`
    : `${https}; then try again.`
}
