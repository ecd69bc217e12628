const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 60_000

/**
 * Tries something again later, waiting 1 s, then 2, 4, … up to 60 s between tries while it keeps
 * failing: a crashed provider process and an endpoint that could not be restored share this schedule.
 */
export class Backoff {
  private delayMs = 0
  private due: Date | null = null
  private timer: NodeJS.Timeout | undefined

  /** When the next try is due; null while none is scheduled (one may be under way). */
  get nextTryAt(): Date | null {
    return this.due
  }

  /** Runs tryAgain after the schedule's next delay, and returns that delay. */
  schedule(tryAgain: () => void): number {
    this.delayMs = this.delayMs === 0 ? FIRST_DELAY_MS : Math.min(this.delayMs * 2, MAX_DELAY_MS)
    this.due = new Date(Date.now() + this.delayMs)
    this.timer = setTimeout(() => {
      this.due = null
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
    this.due = null
  }
}
