import {rm} from 'node:fs/promises'
import {fallbackOf, MEGABYTE, type SettingsProblem, Settings, showValue} from '../config/settings.js'
import {writeFileAtomically} from '../atomic-file.js'
import {EndpointStore} from '../endpoint-store.js'
import type {Paths} from '../paths.js'
import type {ShutdownResponse, SupervisorStatus} from '../protocol/supervisor.js'
import {VERSION} from '../version.js'
import type {ProviderContext, VisitorHeader} from '../providers/provider.js'
import {type CloudflaredSources, cloudflaredSources} from '../providers/cloudflare/cloudflared-binary.js'
import {ProviderRegistry} from '../providers/registry.js'
import {ChildLedger, type ProviderOwner} from '../process/child-ledger.js'
import {ControlServer} from './control-server.js'
import {EventLog} from './event-log.js'
import {ExposeRegistry} from './expose-registry.js'
import {HeldTunnels} from './held-tunnels.js'
import {InspectorServer} from './inspect/inspector-server.js'
import {type Down, KeptAlive} from '../process/kept-alive.js'
import {RequestLog} from './inspect/request-log.js'
import {ReverseProxy} from './proxy/reverse-proxy.js'
import {controlRoutes} from './routes.js'
import {TunnelRegistry} from './tunnel-registry.js'

const IDLE_CHECK_MS = 1000
const WEBHOOK_WAIT_ON_EXIT_MS = 2000
const CONNECTIONS_CLOSE_GRACE_MS = 1000
// A crash report should fit on a screen; the process's own log has the rest.
const RESTART_REPORT_LINES = 10
/** Each has a listener of the proxy's own, opened with it: see ProviderContext.proxyPort. */
const VISITOR_HEADERS: readonly VisitorHeader[] = ['cf-connecting-ip', 'x-forwarded-for']

/** The daemon: owns the tunnels, the endpoints and their proxy, the events and the control socket, and decides when to go. */
export class Supervisor {
  private readonly startedAt = new Date()
  private readonly settings: Settings
  private readonly cloudflared: CloudflaredSources
  private readonly events: EventLog
  private readonly ledger: ChildLedger
  private readonly tunnels: TunnelRegistry
  private readonly held: HeldTunnels
  private readonly requestLog = new RequestLog()
  private readonly proxy = new ReverseProxy({requestLog: this.requestLog})
  private readonly exposes: ExposeRegistry
  private readonly control: ControlServer
  private readonly inspector: InspectorServer
  private idleTimer: NodeJS.Timeout | undefined
  private shuttingDown: Promise<ShutdownResponse> | undefined

  constructor(
    private readonly paths: Paths,
    /** false under a service manager: it runs the supervisor for good (see supervisor-launch.ts). */
    private readonly options: {idleExit: boolean} = {idleExit: true},
  ) {
    this.settings = new Settings(paths, (problem, fixed) => this.settingsProblem(problem, fixed))
    this.events = new EventLog(paths.eventsLog, () => this.settings.get('notify.webhook') as string | undefined)
    this.ledger = new ChildLedger(paths.childLedger)
    this.cloudflared = cloudflaredSources(this.settings, paths.installedCloudflared)
    this.tunnels = new TunnelRegistry({events: this.events, ledger: this.ledger, cloudflaredConfig: paths.cloudflaredConfig, cloudflared: this.cloudflared, proxy: this.proxy, requestLog: this.requestLog})
    this.held = new HeldTunnels({tunnels: this.tunnels, events: this.events, onReleased: () => this.endOneOff()})
    this.exposes = new ExposeRegistry({
      store: new EndpointStore(paths.endpointsDir),
      proxy: this.proxy,
      providers: new ProviderRegistry(this.providerContext()),
      events: this.events,
      requestLog: this.requestLog,
    })
    this.inspector = new InspectorServer({
      traffic: this.requestLog,
      sources: () => ({
        tunnels: this.tunnels.list().map(({port, url}) => ({port, url})),
        endpoints: this.exposes.list().map(({id, name, url, target}) => ({id, name, url, target})),
      }),
      port: () => this.settings.get('inspect.port') as number,
    })
    const routes = controlRoutes({
      status: () => this.status(),
      shutdown: (reason) => this.shutdown(reason),
      tunnels: this.tunnels,
      held: this.held,
      exposes: this.exposes,
      events: this.events,
      inspector: this.inspector,
      requests: this.requestLog,
    })
    this.control = new ControlServer(routes, VERSION)
  }

  /**
   * Listens on the socket (replacing a stale one), ends what a killed predecessor left running,
   * writes the pid file, and starts the idle clock.
   */
  async start(): Promise<void> {
    this.applyProxySettings()
    await Promise.all([this.events.load(), this.proxy.listen(), ...VISITOR_HEADERS.map((header) => this.proxy.listen(header))])
    await this.control.listen(this.paths.socket, this.paths.socketLock)
    await writeFileAtomically(this.paths.pidFile, `${process.pid}\n`)
    this.events.record({type: 'supervisor.started', pid: process.pid, version: VERSION})
    for (const {owner, pid} of await this.ledger.reapPrevious()) {
      // Endpoints come back by themselves; a tunnel is gone for good and its user should hear of it.
      if (owner.kind === 'tunnel') this.events.record({type: 'tunnel.lost', port: owner.port, pid})
      else console.log(`ended ${owner.provider} process ${pid} left by the previous supervisor`)
    }

    // In the background: a provider may take many seconds, and the socket should answer meanwhile.
    void this.exposes.restore()

    // Each tick reads the settings: that is also what notices, within a second, a settings file that
    // has gone bad or been fixed.
    this.idleTimer = setInterval(() => {
      this.applyProxySettings()
      if (this.options.idleExit) this.checkIdle()
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
   * Stops every tunnel and endpoint, records why, then closes the socket and exits. Resolves with
   * what it stopped before the socket closes, so that a client that asked gets its answer. Never
   * rejects, and always exits: a step that fails is logged and the next one runs.
   */
  shutdown(reason: string): Promise<ShutdownResponse> {
    this.shuttingDown ??= this.stopEverything(reason)
    return this.shuttingDown
  }

  private async stopEverything(reason: string): Promise<ShutdownResponse> {
    try {
      clearInterval(this.idleTimer)
      console.log(`shutting down: ${reason}`)
      const endpoints = this.exposes.list().filter((endpoint) => endpoint.status !== 'broken')
      const [stopped] = await Promise.all([
        attempt('stop the tunnels', () => this.tunnels.close(), []),
        attempt('stop the endpoints', () => this.exposes.close(), undefined),
      ])
      await attempt('close the proxy', () => this.proxy.close(), undefined)
      await attempt('close the inspector', () => this.inspector.close(), undefined)
      await attempt('record the stop', async () => {
        this.events.record({type: 'supervisor.stopped', pid: process.pid, reason})
        await this.events.flush(WEBHOOK_WAIT_ON_EXIT_MS)
      }, undefined)
      return {stopped, endpoints}
    } catch (error) {
      console.error('could not stop cleanly:', error)
      return {stopped: [], endpoints: []}
    } finally {
      setImmediate(() => void this.exit())
    }
  }

  private async exit(): Promise<never> {
    try {
      // Stopped before it listened (a signal during start-up): the socket and pid file, if any, are
      // another supervisor's.
      const ownsFiles = this.control.listening
      await this.control.close(CONNECTIONS_CLOSE_GRACE_MS)
      if (ownsFiles) await Promise.all([rm(this.paths.socket, {force: true}), rm(this.paths.pidFile, {force: true})])
    } catch (error) {
      console.error('could not remove the socket and pid file:', error)
    } finally {
      // A child whose stop failed must not outlive us: nothing else would ever end it.
      this.ledger.killAll()
      process.exit()
    }
  }

  private providerContext(): ProviderContext {
    const {proxy, ledger, events, settings, paths, cloudflared} = this
    return {
      proxyPort: (visitorHeader) => proxy.portFor(visitorHeader),
      runtimeDir: paths.runtimeDir,
      settings,
      cloudflared,
      acceptConnection: (socket, host) => proxy.accept(socket, {host}),
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
    this.requestLog.limits = {
      keep: this.settings.get('inspect.keep') as number,
      bodyBytes: this.settings.get('inspect.bodyBytes') as number,
      maxMemory: (this.settings.get('inspect.maxMemory') as number) * MEGABYTE,
    }
  }

  private settingsProblem(problem: SettingsProblem, fixed: boolean): void {
    const file = this.settings.path
    const what = problem.key === undefined ? `the settings file ${file}` : `the setting ${problem.key} in ${file}`
    if (fixed) {
      console.log(`${what} is valid again; using it`)
      return
    }

    if (problem.key === undefined) {
      console.error(
        `${what} cannot be used: ${problem.reason}. Fix it or delete it; until then the supervisor keeps the settings it last read`,
      )
      this.events.record({type: 'settings.invalid', file, reason: problem.reason})
      return
    }

    const {key, value, reason} = problem
    console.error(`${what} is ${showValue(value)}, which is not valid: ${reason} Until it is fixed the supervisor ${fallbackOf(problem)}`)
    this.events.record({type: 'settings.invalid', file, key, value, reason})
  }

  /**
   * A supervisor that a `tunnel run` started for itself leaves with the last run, when nothing else
   * runs: a one-off leaves no process behind. Not under a service manager, which runs it for good.
   */
  private endOneOff(): void {
    if (!this.options.idleExit || !this.held.oneOff) return
    if (this.held.size > 0 || this.tunnels.size > 0 || this.exposes.size > 0) return
    void this.shutdown('the tunnel run that started it has ended')
  }

  private checkIdle(): void {
    const idleTimeoutS = this.settings.get('supervisor.idleTimeout') as number
    // A page with the inspector's live list open holds it, as an `events --follow` does.
    if (idleTimeoutS === 0 || this.tunnels.size > 0 || this.exposes.size > 0 || this.inspector.watched) return
    if (this.control.idleForMs() >= idleTimeoutS * 1000) void this.shutdown(`idle for ${idleTimeoutS}s with nothing running`)
  }
}

function report({provider, endpoint}: ProviderOwner, {restarts, delayMs, reason, lastLines}: Down) {
  return {provider, endpoint: endpoint ?? null, restarts, delayMs, reason, lastLines: lastLines.slice(-RESTART_REPORT_LINES)}
}

/** One step of a shutdown: a failure is logged and gives `otherwise`, so that the steps after it still run. */
async function attempt<T>(what: string, step: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await step()
  } catch (error) {
    console.error(`could not ${what}:`, error)
    return otherwise
  }
}
