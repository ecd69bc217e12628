const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 60_000

/**
 * Tries something again later, waiting 1 s, then 2, 4, … up to 60 s between tries while it keeps
 * failing: a crashed provider process and an endpoint that could not be restored share this schedule.
 */
export class Backoff {
  /** When the next try is due; null while none is scheduled (one may be under way). */
  nextTryAt: Date | null = null
  private delayMs = 0
  private timer: NodeJS.Timeout | undefined

  /** Runs tryAgain after the schedule's next delay, and returns that delay. */
  schedule(tryAgain: () => void): number {
    this.delayMs = this.delayMs === 0 ? FIRST_DELAY_MS : Math.min(this.delayMs * 2, MAX_DELAY_MS)
    this.nextTryAt = new Date(Date.now() + this.delayMs)
    this.timer = setTimeout(() => {
      this.nextTryAt = null
      tryAgain()
    }, this.delayMs)
    return this.delayMs
  }

  /** The next schedule() waits the first delay again: what failed had been fine for a while. */
  reset(): void {
    this.delayMs = 0
  }

  cancel(): void {
    clearTimeout(this.timer)
    this.nextTryAt = null
  }
}
