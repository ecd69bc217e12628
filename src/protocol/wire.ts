/**
 * The control socket's protocol: HTTP/1.1 with JSON bodies under /v1. The files of this folder are
 * the protocol by concern; the supervisor's route table and the client are mirror images of them, and
 * anything arriving from the socket goes through one of their parse* functions before it is trusted.
 * This one holds what every part shares: the headers, errors, and the checks the parsers build on.
 */
import {badInput, ERROR_CODES, type ErrorCode, TunnelctlError} from '../errors.js'

export const VERSION_HEADER = 'tunnelctl-version'
/** Names the file descriptor on which a supervisor tells the command that spawned it that it listens. */
export const READY_FD_ENV = 'TUNNELCTL_READY_FD'

export interface ErrorBody {
  error: {code: ErrorCode; message: string}
}

// The replies' parsers check what the supervisor sent: the other side may be an older or broken build.

export function parseErrorBody(body: unknown): TunnelctlError | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined
  const {code, message} = body.error
  if (typeof message !== 'string' || !isOneOf(ERROR_CODES, code)) return undefined
  return new TunnelctlError(code, message)
}

/** `detail` says what was wrong, where that helps whoever reads the supervisor's log or files a bug. */
export function malformedReply(what: string, detail?: string): TunnelctlError {
  return new TunnelctlError(
    'SUPERVISOR_UNAVAILABLE',
    `The supervisor sent a malformed ${what} reply${detail ? ` (${detail})` : ''}. Restart it with \`tunnelctl supervisor stop\` and try again.`,
  )
}

export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return values.some((allowed) => allowed === value)
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function expectReply(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw malformedReply('non-object')
  return value
}

export function expectObject(value: unknown, allowedKeys: string[]): Record<string, unknown> {
  if (!isObject(value)) throw badInput('The request body must be a JSON object.')
  const unknown = Object.keys(value).filter((key) => !allowedKeys.includes(key))
  if (unknown.length > 0) {
    throw badInput(`Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowedKeys.join(', ')}.`)
  }

  return value
}
