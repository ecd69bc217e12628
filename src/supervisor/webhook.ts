import {setTimeout as delay} from 'node:timers/promises'
import type {SupervisorEvent} from '../protocol/events.js'

const ATTEMPTS = 3
const TIMEOUT_MS = 5000
const FIRST_BACKOFF_MS = 1000

/**
 * POSTs one event as JSON. Network errors, timeouts and 5xx are retried a bounded number of times;
 * nothing here throws, because a receiver that is down must never hurt the supervisor.
 */
export async function deliverWebhook(url: string, event: SupervisorEvent): Promise<boolean> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let problem: string
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'user-agent': 'tunnelctl'},
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
      await response.body?.cancel()
      if (response.ok) return true
      problem = `HTTP ${response.status}`
      if (response.status < 500) {
        console.error(`webhook ${url} refused event ${event.id}: ${problem}; not retrying`)
        return false
      }
    } catch (error) {
      problem = (error as Error).message
    }

    console.error(`webhook ${url} failed for event ${event.id} (attempt ${attempt}/${ATTEMPTS}): ${problem}`)
    if (attempt < ATTEMPTS) await delay(FIRST_BACKOFF_MS * 2 ** (attempt - 1))
  }

  return false
}
