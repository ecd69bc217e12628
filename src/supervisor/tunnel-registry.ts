import {TunnelctlError} from '../errors.js'
import {DEFAULT_START_TIMEOUT_MS} from '../protocol/start-options.js'
import {type Scheme, unverifiedCertificateWarning} from '../protocol/local-target.js'
import type {StartTunnelRequest, StartTunnelResponse, TunnelInfo} from '../protocol/tunnels.js'
import type {CloudflaredSources} from '../providers/cloudflare/cloudflared-binary.js'
import {CLOUDFLARED_STOP_GRACE_MS, type QuickTunnel, startQuickTunnel} from '../providers/cloudflare/quick-tunnel.js'
import type {ChildLedger} from '../process/child-ledger.js'
import type {EventLog} from './event-log.js'
import type {RequestLog} from './inspect/request-log.js'
import {warnIfNothingListens} from './listening.js'
import {hashPassword, newPassword} from './proxy/basic-auth.js'
import type {ReverseProxy} from './proxy/reverse-proxy.js'

// cloudflared's long disclaimer comes first; what explains a crash is at the end.
const CRASH_REPORT_LINES = 10

interface Tunnel {
  port: number
  scheme: Scheme
  /** cloudflared → port; otherwise cloudflared → proxy → port. */
  direct: boolean
  auth: boolean
  startedAt: Date
  /** Set once cloudflared is up; until then the tunnel is starting. */
  running?: QuickTunnel
  /** Aborts a start that is still under way. */
  abort: AbortController
  /** The proxy routes this host, cloudflared's, to the port while the tunnel is up; a direct tunnel has none. */
  routedHost?: string
}

export interface TunnelRegistryOptions {
  events: EventLog
  ledger: ChildLedger
  cloudflaredConfig: string
  cloudflared: CloudflaredSources
  proxy: ReverseProxy
  /** Where the proxy records a tunnel's requests; they go with the tunnel. */
  requestLog: RequestLog
}

/**
 * The quick tunnels of this supervisor, one per local port. Unless direct, cloudflared sends visitors
 * to the proxy, where the Host it forwards with routes them to the port: the proxy asks for the
 * password and sees every request, as it does for endpoints.
 */
export class TunnelRegistry {
  private readonly tunnels = new Map<number, Tunnel>()
  private closed = false

  constructor(private readonly options: TunnelRegistryOptions) {}

  get size(): number {
    return this.tunnels.size
  }

  list(): TunnelInfo[] {
    return [...this.tunnels.values()].sort((a, b) => a.port - b.port).map((tunnel) => describe(tunnel))
  }

  /** `cancel` aborts a start still under way, e.g. when the client that asked has gone (Ctrl-C). */
  async start({port, scheme = 'http', timeoutMs = DEFAULT_START_TIMEOUT_MS, searchPath, direct = false, auth = false}: StartTunnelRequest, cancel?: AbortSignal): Promise<StartTunnelResponse> {
    if (this.closed) throw stopping()
    const existing = this.tunnels.get(port)
    if (existing) {
      const where = existing.running ? ` (${existing.running.url})` : ''
      throw new TunnelctlError(
        'CONFLICT',
        `Port ${port} already has a tunnel${where}. Stop it first with \`tunnelctl tunnel stop ${port}\`.`,
      )
    }

    const tunnel: Tunnel = {port, scheme, direct, auth, startedAt: new Date(), abort: new AbortController()}
    const password = auth ? newPassword() : undefined
    this.tunnels.set(port, tunnel)
    const onCancel = () => {
      if (this.tunnels.get(port) === tunnel && !tunnel.running) void this.end(tunnel, cancel!.reason)
    }
    cancel?.addEventListener('abort', onCancel, {once: true})
    let running: QuickTunnel
    let warning: string | undefined
    let authHash: string | undefined
    try {
      ;[running, warning, authHash] = await Promise.all([
        startQuickTunnel({
          // The proxy's entrance where cloudflared's CF-Connecting-IP names the visitor, as for endpoints;
          // the proxy, not cloudflared, then speaks TLS to an https origin.
          port: direct ? port : this.options.proxy.portFor('cf-connecting-ip'),
          scheme: direct ? scheme : 'http',
          timeoutMs,
          searchPath,
          cloudflared: this.options.cloudflared,
          configFile: this.options.cloudflaredConfig,
          signal: tunnel.abort.signal,
          onSpawn: (child) => this.options.ledger.track(child, {kind: 'tunnel', port}),
          timeoutHint: 'Raise the limit with --timeout.',
        }),
        warnIfNothingListens({kind: 'port', port, scheme}),
        password === undefined ? undefined : hashPassword(password),
      ])
    } catch (error) {
      if (this.tunnels.get(port) === tunnel) this.tunnels.delete(port)
      throw error
    } finally {
      cancel?.removeEventListener('abort', onCancel)
    }

    if (this.tunnels.get(port) !== tunnel) {
      // Stopped (or the supervisor closed) in the instant between cloudflared coming up and now.
      await running.process.stop(CLOUDFLARED_STOP_GRACE_MS)
      throw tunnel.abort.signal.reason
    }

    if (!direct) {
      try {
        this.route(tunnel, new URL(running.url).host, authHash)
      } catch (error) {
        this.tunnels.delete(port)
        await running.process.stop(CLOUDFLARED_STOP_GRACE_MS)
        throw error
      }
    }

    tunnel.running = running
    tunnel.startedAt = new Date()
    this.reportCrash(tunnel, running)
    this.options.events.record({type: 'tunnel.started', port, url: running.url, pid: running.process.pid})
    const warnings = [unverifiedCertificateWarning({port, scheme}), warning].filter((w) => w !== undefined)
    return password === undefined ? {tunnel: describe(tunnel), warnings} : {tunnel: describe(tunnel), warnings, password}
  }

  async stop(port: number): Promise<TunnelInfo> {
    const tunnel = this.tunnels.get(port)
    if (!tunnel) {
      throw new TunnelctlError('NOT_FOUND', `No tunnel on port ${port}. See the active ones with \`tunnelctl tunnel list\`.`)
    }

    await this.end(tunnel, new TunnelctlError('TUNNEL_FAILED', `The tunnel on port ${port} was stopped before it was up.`))
    return describe(tunnel)
  }

  async stopAll(): Promise<TunnelInfo[]> {
    const tunnels = [...this.tunnels.values()].sort((a, b) => a.port - b.port)
    const reason = new TunnelctlError('TUNNEL_FAILED', 'The tunnel was stopped by `tunnel killall` before it was up.')
    await Promise.all(tunnels.map((tunnel) => this.end(tunnel, this.closed ? stopping() : reason)))
    return tunnels.map((tunnel) => describe(tunnel))
  }

  /** Stops everything and refuses new starts: the supervisor is going away. */
  close(): Promise<TunnelInfo[]> {
    this.closed = true
    return this.stopAll()
  }

  /** An exit nobody asked for is a crash: the tunnel goes, and an event says why. */
  private reportCrash(tunnel: Tunnel, running: QuickTunnel): void {
    running.process.exited.then((exit) => {
      if (running.process.stopRequested || this.tunnels.get(tunnel.port) !== tunnel) return
      this.tunnels.delete(tunnel.port)
      this.unroute(tunnel)
      // cloudflared itself is gone; anything a wrapper left in its group goes with it.
      running.process.killGroup()
      this.options.events.record({
        type: 'tunnel.crashed',
        port: tunnel.port,
        url: running.url,
        exitCode: exit.exitCode,
        signal: exit.signal,
        lastLines: running.process.lastLines().slice(-CRASH_REPORT_LINES),
      })
    })
  }

  private async end(tunnel: Tunnel, abortReason: TunnelctlError): Promise<void> {
    this.tunnels.delete(tunnel.port)
    if (!tunnel.running) {
      tunnel.abort.abort(abortReason)
      return
    }

    // Routed until cloudflared is gone: its graceful stop lets requests under way finish.
    await tunnel.running.process.stop(CLOUDFLARED_STOP_GRACE_MS)
    this.unroute(tunnel)
    this.options.events.record({type: 'tunnel.stopped', port: tunnel.port, url: tunnel.running.url})
  }

  /** Throws CONFLICT, routing nothing, when the host is already another tunnel's or an endpoint's. */
  private route(tunnel: Tunnel, host: string, authHash: string | undefined): void {
    const {port, scheme} = tunnel
    this.options.proxy.setRoute(host, {target: {kind: 'port', port, scheme}, source: {kind: 'tunnel', port}, ...(authHash !== undefined && {authHash})})
    tunnel.routedHost = host
  }

  private unroute(tunnel: Tunnel): void {
    if (tunnel.routedHost !== undefined) this.options.proxy.removeRoute(tunnel.routedHost)
    tunnel.routedHost = undefined
    this.options.requestLog.forget({kind: 'tunnel', port: tunnel.port})
  }
}

function describe(tunnel: Tunnel): TunnelInfo {
  return {
    port: tunnel.port,
    scheme: tunnel.scheme,
    url: tunnel.running?.url ?? null,
    pid: tunnel.running?.process.pid ?? null,
    startedAt: tunnel.startedAt.toISOString(),
    status: tunnel.running ? 'up' : 'starting',
    direct: tunnel.direct,
    auth: tunnel.auth,
  }
}

function stopping(): TunnelctlError {
  return new TunnelctlError('SUPERVISOR_STOPPING', 'The supervisor is shutting down; start the tunnel again once it has stopped.')
}
