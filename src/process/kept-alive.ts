import {TunnelctlError} from '../errors.js'
import {Backoff} from './backoff.js'
import type {ProviderOwner} from './child-ledger.js'
import {describeExit, type ExitInfo, type ManagedProcess} from './managed-process.js'

/** Up this long, a process that dies is restarted after the backoff's first delay again. */
const STABLE_AFTER_MS = 30_000
/**
 * Deaths in a row, each within STABLE_AFTER_MS of its start, before it counts as failed: 1 + 2 + 4 + 8 s
 * of backoff rides out a blip; a process that keeps dying faster is broken, or the network is down.
 */
const MAX_QUICK_FAILURES = 5

export interface Started<T> {
  process: ManagedProcess
  /** What the process offers once up, e.g. its URL. */
  value: T
}

export interface Down {
  /** Restarts so far, this one included. */
  restarts: number
  delayMs: number
  /** The exit of the process that died, or why a restart failed to come up. */
  exit?: ExitInfo
  reason: string
  lastLines: string[]
}

export interface KeepAliveOptions<T> {
  owner: ProviderOwner
  /**
   * Runs the process and resolves once it is up. Must call onSpawn with the child as soon as it runs;
   * on failure, or when the signal aborts, must stop the child and reject. `restart` is false for the
   * first start, the one a caller waits for.
   */
  start(onSpawn: (child: ManagedProcess) => void, signal: AbortSignal, restart: boolean): Promise<Started<T>>
  stopGraceMs: number
  /** A restart came up. */
  onUp?(value: T, restarts: number): void
  /** The process died (or a restart failed); another try comes after delayMs. */
  onDown?(down: Down): void
  /**
   * It died MAX_QUICK_FAILURES times in a row soon after starting. It is still tried every delayMs (up
   * to 60 s: a network outage ends), but quietly: no onDown until it has recovered.
   */
  onFailed?(down: Down): void
  /** After it had failed, a process has stayed up STABLE_AFTER_MS. */
  onRecovered?(restarts: number): void
  /** Called with every child spawned, restarts included. */
  onSpawn?(child: ManagedProcess): void
}

/**
 * A process kept running: when it dies unbidden it is started again after 1 s, doubling to 60 s
 * while it keeps failing, back to 1 s once it has stayed up 30 s; after MAX_QUICK_FAILURES quick
 * deaths in a row it is reported failed. Only the first start's failure is the caller's to handle
 * (firstUp rejects, and nothing is retried); later ones are retried.
 */
export class KeptAlive<T> {
  /** What the process offers once it first came up. */
  readonly firstUp: Promise<T>
  private current: Started<T> | undefined
  private upSince = 0
  private readonly backoff = new Backoff()
  private restartCount = 0
  private quickFailures = 0
  private failed = false
  private recovering: NodeJS.Timeout | undefined
  private restarting: Promise<void> | undefined
  private readonly stopping = new AbortController()

  constructor(private readonly options: KeepAliveOptions<T>) {
    this.firstUp = this.startFirst()
  }

  get value(): T | undefined {
    return this.current?.value
  }

  get restarts(): number {
    return this.restartCount
  }

  /** Stops the process, or ends a start still under way: firstUp then rejects with the reason. */
  async stop(reason: Error = new TunnelctlError('TUNNEL_FAILED', 'It was stopped before it was up.')): Promise<void> {
    this.stopping.abort(reason)
    this.backoff.cancel()
    clearTimeout(this.recovering)
    await Promise.allSettled([this.firstUp, this.restarting])
    await this.current?.process.stop(this.options.stopGraceMs)
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted
  }

  private async startFirst(): Promise<T> {
    const started = await this.options.start((child) => this.options.onSpawn?.(child), this.stopping.signal, false)
    if (this.stopped) {
      await started.process.stop(this.options.stopGraceMs)
      throw this.stopping.signal.reason
    }

    this.running(started)
    return started.value
  }

  private running(started: Started<T>): void {
    this.current = started
    this.upSince = Date.now()
    if (this.failed) {
      this.recovering = setTimeout(() => {
        this.failed = false
        this.quickFailures = 0
        this.options.onRecovered?.(this.restartCount)
      }, STABLE_AFTER_MS)
    }

    started.process.exited.then((exit) => {
      clearTimeout(this.recovering)
      if (this.stopped || started.process.stopRequested) return
      // A wrapper's children must not outlive it and hold the port or the tunnel.
      started.process.killGroup()
      const upForMs = Date.now() - this.upSince
      this.scheduleRestart({exit, reason: `exited with ${describeExit(exit)}`, lastLines: started.process.lastLines()}, upForMs)
    })
  }

  private scheduleRestart(why: Pick<Down, 'exit' | 'reason' | 'lastLines'>, upForMs = 0): void {
    const stable = upForMs >= STABLE_AFTER_MS
    this.quickFailures = stable ? 1 : this.quickFailures + 1
    if (stable) this.backoff.reset()
    const delayMs = this.backoff.schedule(() => {
      this.restarting = this.restart()
    })
    this.restartCount++
    const down = {...why, restarts: this.restartCount, delayMs}
    if (this.quickFailures === MAX_QUICK_FAILURES) {
      this.failed = true
      this.options.onFailed?.(down)
    } else if (!this.failed) {
      this.options.onDown?.(down)
    }
  }

  private async restart(): Promise<void> {
    let spawned: ManagedProcess | undefined
    try {
      const started = await this.options.start((child) => {
        spawned = child
        this.options.onSpawn?.(child)
      }, this.stopping.signal, true)
      if (this.stopped) {
        await started.process.stop(this.options.stopGraceMs)
        return
      }

      this.running(started)
      this.options.onUp?.(started.value, this.restartCount)
    } catch (error) {
      if (this.stopped) return
      this.scheduleRestart({reason: (error as Error).message.split('\n')[0], lastLines: spawned?.lastLines() ?? []})
    }
  }
}
