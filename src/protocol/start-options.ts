/** What a start request, of a tunnel or of an endpoint, may add: how long to wait, and where to look for programs. */
import {badInput} from '../errors.js'
import {searchPathProblem} from './search-path.js'

export const MAX_START_TIMEOUT_MS = 600_000

/** What `tunnel start` and `expose start` wait for their URL when the request names no timeoutMs. */
export const DEFAULT_START_TIMEOUT_MS = 30_000

/** A start request's `timeoutMs`: absent, or whole milliseconds up to MAX_START_TIMEOUT_MS. */
export function parseTimeoutMs(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_START_TIMEOUT_MS) {
    throw badInput(`"timeoutMs" must be an integer from 1 to ${MAX_START_TIMEOUT_MS}.`)
  }

  return timeoutMs
}

/** A start's "searchPath" field, checked; {} when it is absent. */
export function optionalSearchPath(value: unknown): {searchPath?: string} {
  if (value === undefined) return {}
  const problem = searchPathProblem(value)
  if (problem) throw badInput(`"searchPath" (the caller's PATH) ${problem}.`)
  return {searchPath: value as string}
}
