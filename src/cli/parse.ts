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

/** A count given to `--<flag>`, such as how many lines or events to show: a whole number above 0. */
export function parseCount(flag: string, input: string, example: number): number {
  if (!/^\d{1,6}$/.test(input) || Number(input) === 0) {
    throw badInput(`Invalid --${flag} "${input}": give a whole number above 0, for example ${example}.`)
  }

  return Number(input)
}
