import {chmod, rm, writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {Settings} from '../config/settings.js'
import type {Paths} from '../paths.js'
import type {SupervisorStatus, TunnelInfo} from '../protocol.js'
import {VERSION} from '../version.js'
import type {ProviderContext} from '../providers/provider.js'
import {ProviderRegistry} from '../providers/registry.js'
import {ChildLedger, type ProviderOwner} from './child-ledger.js'
import {ControlServer} from './control-server.js'
import {EndpointStore} from './endpoint-store.js'
import {EventLog} from './event-log.js'
import {ExposeRegistry} from './expose-registry.js'
import {type Down, KeptAlive} from './kept-alive.js'
import {ReverseProxy} from './proxy/reverse-proxy.js'
import {controlRoutes} from './routes.js'
import {TunnelRegistry} from './tunnel-registry.js'

const IDLE_CHECK_MS = 1000
const WEBHOOK_WAIT_ON_EXIT_MS = 2000
const CONNECTIONS_CLOSE_GRACE_MS = 1000
// A crash report should fit on a screen; the process's own log has the rest.
const RESTART_REPORT_LINES = 10

export class AlreadyRunning extends Error {}

/** The daemon: owns the tunnels, the endpoints and their proxy, the events and the control socket, and decides when to go. */
export class Supervisor {
  private readonly startedAt = new Date()
  private readonly settings: Settings
  private readonly events: EventLog
  private readonly ledger: ChildLedger
  private readonly tunnels: TunnelRegistry
  private readonly proxy = new ReverseProxy()
  private readonly exposes: ExposeRegistry
  private readonly control: ControlServer
  private idleTimer: NodeJS.Timeout | undefined
  private shuttingDown: Promise<TunnelInfo[]> | undefined

  constructor(private readonly paths: Paths) {
    this.settings = new Settings(paths)
    this.events = new EventLog(paths.eventsLog, () => this.settings.get('notify.webhook') as string | undefined)
    this.ledger = new ChildLedger(paths.childLedger)
    this.tunnels = new TunnelRegistry({events: this.events, ledger: this.ledger, cloudflaredConfig: paths.cloudflaredConfig})
    this.exposes = new ExposeRegistry({
      store: new EndpointStore(paths.endpointsDir),
      proxy: this.proxy,
      providers: new ProviderRegistry(this.providerContext()),
      events: this.events,
    })
    const routes = controlRoutes({
      status: () => this.status(),
      shutdown: (reason) => this.shutdown(reason),
      tunnels: this.tunnels,
      exposes: this.exposes,
      events: this.events,
    })
    this.control = new ControlServer(routes, VERSION)
  }

  /**
   * Listens on the socket (replacing a stale one), ends what a killed predecessor left running,
   * writes the pid file, and starts the idle clock.
   */
  async start(): Promise<void> {
    this.applyProxySettings()
    await Promise.all([this.events.load(), this.proxy.listen()])
    await listenReplacingStale(this.control, this.paths.socket)
    await chmod(this.paths.socket, 0o600)
    await writeFile(this.paths.pidFile, `${process.pid}\n`, {mode: 0o600})
    this.events.record({type: 'supervisor.started', pid: process.pid, version: VERSION})
    for (const {owner, pid} of await this.ledger.reapPrevious()) {
      // Endpoints come back by themselves; a tunnel is gone for good and its user should hear of it.
      if (owner.kind === 'tunnel') this.events.record({type: 'tunnel.lost', port: owner.port, pid})
      else console.log(`ended ${owner.provider} process ${pid} left by the previous supervisor`)
    }

    // In the background: a provider may take many seconds, and the socket should answer meanwhile.
    void this.exposes.restore()

    this.idleTimer = setInterval(() => {
      this.applyProxySettings()
      this.checkIdle()
    }, IDLE_CHECK_MS)
    this.idleTimer.unref()
  }

  status(): SupervisorStatus {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      socket: this.paths.socket,
      configDir: this.paths.configDir,
      tunnels: this.tunnels.size,
      endpoints: this.exposes.size,
      proxyPort: this.proxy.port,
    }
  }

  /**
   * Stops every tunnel, records why, then closes the socket and exits. Resolves with the tunnels it
   * stopped before the socket closes, so that a client that asked gets its answer.
   */
  shutdown(reason: string): Promise<TunnelInfo[]> {
    this.shuttingDown ??= this.stopEverything(reason)
    return this.shuttingDown
  }

  private async stopEverything(reason: string): Promise<TunnelInfo[]> {
    clearInterval(this.idleTimer)
    console.log(`shutting down: ${reason}`)
    const [stopped] = await Promise.all([this.tunnels.close(), this.exposes.close()])
    await this.proxy.close()
    this.events.record({type: 'supervisor.stopped', pid: process.pid, reason})
    await this.events.flush(WEBHOOK_WAIT_ON_EXIT_MS)
    setImmediate(() => void this.exit())
    return stopped
  }

  private async exit(): Promise<never> {
    const {server} = this.control
    // Stopped before it listened (a signal during start-up): the socket and pid file, if any, are
    // another supervisor's.
    const ownsFiles = server.listening
    const closed = new Promise((resolve) => server.close(resolve))
    server.closeIdleConnections()
    const forced = setTimeout(() => server.closeAllConnections(), CONNECTIONS_CLOSE_GRACE_MS)
    await closed
    clearTimeout(forced)
    if (ownsFiles) await Promise.all([rm(this.paths.socket, {force: true}), rm(this.paths.pidFile, {force: true})])
    process.exit()
  }

  private providerContext(): ProviderContext {
    const {proxy, ledger, events, settings, paths} = this
    return {
      get proxyPort() {
        return proxy.port
      },
      runtimeDir: paths.runtimeDir,
      settings,
      acceptConnection: (socket) => proxy.accept(socket),
      keepAlive: (options) =>
        new KeptAlive({
          ...options,
          onSpawn(child) {
            ledger.track(child, options.owner)
            options.onSpawn?.(child)
          },
          onDown(down) {
            events.record({type: 'expose.restarting', ...report(options.owner, down)})
            options.onDown?.(down)
          },
          onFailed(down) {
            events.record({type: 'expose.failed', ...report(options.owner, down)})
            options.onFailed?.(down)
          },
          onRecovered(restarts) {
            events.record({type: 'expose.recovered', provider: options.owner.provider, endpoint: options.owner.endpoint ?? null, restarts})
            options.onRecovered?.(restarts)
          },
        }),
    }
  }

  /** Read here, not per request: a visitor's request never waits on the disk. */
  private applyProxySettings(): void {
    this.proxy.responseTimeoutMs = (this.settings.get('proxy.responseTimeout') as number) * 1000
  }

  private checkIdle(): void {
    const idleTimeoutS = this.settings.get('supervisor.idleTimeout') as number
    if (idleTimeoutS === 0 || this.tunnels.size > 0 || this.exposes.size > 0) return
    if (this.control.idleForMs() >= idleTimeoutS * 1000) void this.shutdown(`idle for ${idleTimeoutS}s with nothing running`)
  }
}

function report({provider, endpoint}: ProviderOwner, {restarts, delayMs, reason, lastLines}: Down) {
  return {provider, endpoint: endpoint ?? null, restarts, delayMs, reason, lastLines: lastLines.slice(-RESTART_REPORT_LINES)}
}

async function listenReplacingStale(control: ControlServer, socket: string): Promise<void> {
  try {
    await listen(control, socket)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    if (await answers(socket)) throw new AlreadyRunning(`another supervisor already answers on ${socket}`)
    await rm(socket, {force: true})
    await listen(control, socket)
  }
}

function listen(control: ControlServer, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    control.server.once('error', reject)
    control.server.listen(socket, () => {
      control.server.off('error', reject)
      resolve()
    })
  })
}

/** Whether something accepts connections on the socket; a file with nothing behind it is stale. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}
