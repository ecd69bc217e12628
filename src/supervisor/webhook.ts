import {setTimeout as delay} from 'node:timers/promises'
import type {SupervisorEvent} from '../protocol.js'

export interface WebhookOptions {
  attempts: number
  timeoutMs: number
  backoffMs: number
}

const DEFAULTS: WebhookOptions = {attempts: 3, timeoutMs: 5000, backoffMs: 1000}

/**
 * POSTs one event as JSON. Network errors, timeouts and 5xx are retried a bounded number of times;
 * nothing here throws, because a receiver that is down must never hurt the supervisor.
 */
export async function deliverWebhook(url: string, event: SupervisorEvent, options: WebhookOptions = DEFAULTS): Promise<boolean> {
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    let problem: string
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'user-agent': 'tunnelctl'},
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(options.timeoutMs),
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

    console.error(`webhook ${url} failed for event ${event.id} (attempt ${attempt}/${options.attempts}): ${problem}`)
    if (attempt < options.attempts) await delay(options.backoffMs * 2 ** (attempt - 1))
  }

  return false
}
