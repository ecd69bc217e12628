/** Failed logins a visitor may have within one window before it has to wait for the window to end. */
const FAILURES_PER_VISITOR = 10
const WINDOW_MS = 60_000
/** Far more visitors than an endpoint's own users ever are; past it, an attacker cycling addresses only evicts. */
const MAX_TRACKED = 10_000

interface FailureWindow {
  startedAt: number
  failures: number
}

/**
 * Failed logins per visitor in fixed windows that start at the first failure, so that guessing
 * passwords is cut off after a few tries, before bcrypt runs again. Memory stays bounded: when the
 * table is full, the visitor whose window started first is forgotten. A visitor may as well be a
 * whole endpoint, with a higher limit.
 */
export class FailedLogins {
  /** In the order their windows started, so that expired ones are always at the front. */
  private readonly windows = new Map<string, FailureWindow>()

  constructor(private readonly allowed = FAILURES_PER_VISITOR) {}

  /** False when no visitor has failures held against it, and so none needs looking up. */
  holdsAny(): boolean {
    if (this.windows.size > 0) this.dropExpired()
    return this.windows.size > 0
  }

  /** Seconds until `visitor` may try again, or undefined when it may try now. */
  retryAfter(visitor: string): number | undefined {
    const window = this.current(visitor)
    if (!window || window.failures < this.allowed) return undefined
    return Math.ceil((window.startedAt + WINDOW_MS - performance.now()) / 1000)
  }

  record(visitor: string): void {
    const window = this.current(visitor)
    if (window) {
      window.failures++
      return
    }

    this.dropExpired()
    if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value!)
    this.windows.set(visitor, {startedAt: performance.now(), failures: 1})
  }

  /** After a successful login: the failures before it were the visitor's own typos. */
  forget(visitor: string): void {
    this.windows.delete(visitor)
  }

  /** Takes back one failure recorded before it was known to be none. */
  forgiveOne(visitor: string): void {
    const window = this.current(visitor)
    if (window && window.failures > 0) window.failures--
  }

  private current(visitor: string): FailureWindow | undefined {
    const window = this.windows.get(visitor)
    if (window && expired(window)) {
      this.windows.delete(visitor)
      return undefined
    }

    return window
  }

  private dropExpired(): void {
    for (const [visitor, window] of this.windows) {
      if (!expired(window)) return
      this.windows.delete(visitor)
    }
  }
}

function expired(window: FailureWindow): boolean {
  return performance.now() - window.startedAt >= WINDOW_MS
}
