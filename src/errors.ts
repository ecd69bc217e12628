/**
 * Every failure a user can see is a TunnelctlError: a message that says what to do, and a code that
 * decides both the HTTP status on the control socket and the CLI's exit status.
 */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'TOO_LARGE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CLOUDFLARED_NOT_FOUND'
  | 'PROVIDER_UNAVAILABLE'
  | 'TUNNEL_FAILED'
  | 'SUPERVISOR_UNAVAILABLE'
  | 'STORAGE_FAILED'
  | 'SUPERVISOR_STOPPING'
  | 'VERSION_MISMATCH'
  | 'SERVICE_FAILED'
  | 'DOWNLOAD_FAILED'
  | 'INTERNAL'

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  TOO_LARGE: 413,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CLOUDFLARED_NOT_FOUND: 424,
  PROVIDER_UNAVAILABLE: 424,
  TUNNEL_FAILED: 502,
  SUPERVISOR_UNAVAILABLE: 503,
  STORAGE_FAILED: 507,
  SUPERVISOR_STOPPING: 503,
  VERSION_MISMATCH: 409,
  SERVICE_FAILED: 502,
  DOWNLOAD_FAILED: 502,
  INTERNAL: 500,
}

export const ERROR_CODES = Object.keys(HTTP_STATUS) as ErrorCode[]

export class TunnelctlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'TunnelctlError'
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code]
  }

  /** 2 for input the user must change, 1 for everything that failed with good input. */
  get exitCode(): number {
    return this.code === 'BAD_INPUT' || this.code === 'TOO_LARGE' ? 2 : 1
  }
}

export function badInput(message: string): TunnelctlError {
  return new TunnelctlError('BAD_INPUT', message)
}
