import {setTimeout as delay} from 'node:timers/promises'

/**
 * How long one wait in a test may take before it fails with its own message. Well under vitest's
 * test timeout, so that a hang is reported as what was awaited, never as the runner's bare timeout.
 */
export const WAIT_MS = 45_000

/** Polls `check` until it gives a truthy value, or fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check()
    if (value) return value
    await delay(25)
  }

  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Settles as `promise` does, or fails naming what it waited for once `timeoutMs` has passed. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
