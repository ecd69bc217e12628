import {badInput} from '../errors.js'
import {MAX_START_TIMEOUT_MS} from '../protocol/start-options.js'

/** `--timeout` in seconds, as typed: a positive number up to ten minutes. */
export function parseTimeoutSeconds(input: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(input) ? Number(input) : Number.NaN
  const ms = Math.round(seconds * 1000)
  if (!(ms >= 1 && ms <= MAX_START_TIMEOUT_MS)) {
    throw badInput(`Invalid --timeout "${input}": give a number of seconds above 0 and at most ${MAX_START_TIMEOUT_MS / 1000}, for example 30.`)
  }

  return ms
}
