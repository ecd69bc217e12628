/**
 * The control socket's protocol: HTTP/1.1 with JSON bodies under /v1. The supervisor's route table
 * and the client are mirror images of this file; anything arriving from the socket goes through a
 * parse* function here before it is trusted.
 */
import {badInput, ERROR_CODES, type ErrorCode, TunnelctlError} from './errors.js'
import type {EndpointInfo} from './expose-protocol.js'
import {isValidPort} from './ports.js'
import {searchPathProblem} from './search-path.js'

export const VERSION_HEADER = 'tunnelctl-version'
/** Names the file descriptor on which a supervisor tells the command that spawned it that it listens. */
export const READY_FD_ENV = 'TUNNELCTL_READY_FD'

export type TunnelStatus = 'starting' | 'up'

export interface TunnelInfo {
  port: number
  url: string | null
  pid: number | null
  /** ISO 8601; uptime is derived from it by whoever renders. */
  startedAt: string
  status: TunnelStatus
}

export interface StartTunnelRequest {
  port: number
  /** How long to wait for cloudflared's URL. */
  timeoutMs?: number
  /** The caller's PATH, where cloudflared is looked for; the supervisor's own when absent. */
  searchPath?: string
}

export interface StartTunnelResponse {
  tunnel: TunnelInfo
  /** Things the user should know that did not stop the tunnel, e.g. nothing listening on the port yet. */
  warnings: string[]
}

export interface ListTunnelsResponse {
  tunnels: TunnelInfo[]
}

export interface StopTunnelResponse {
  tunnel: TunnelInfo
}

export interface StopAllTunnelsResponse {
  stopped: TunnelInfo[]
}

/** What a supervisor stopped on its way out: its tunnels, and its endpoints, which stay saved for the next one. */
export interface ShutdownResponse {
  stopped: TunnelInfo[]
  endpoints: EndpointInfo[]
}

export interface SupervisorStatus {
  version: string
  pid: number
  startedAt: string
  socket: string
  configDir: string
  tunnels: number
  /** Absent from supervisors older than the expose topic, which must still be recognised to be replaced. */
  endpoints?: number
  /** The reverse proxy every endpoint is published through, on 127.0.0.1. */
  proxyPort?: number
}

export interface ErrorBody {
  error: {code: ErrorCode; message: string}
}

interface EventBase {
  id: number
  time: string
}

interface ProviderProcessDown {
  provider: string
  /** null for a process shared by several endpoints. */
  endpoint: string | null
  restarts: number
  delayMs: number
  reason: string
  lastLines: string[]
}

export type SupervisorEvent = EventBase &
  (
    | {type: 'supervisor.started'; pid: number; version: string}
    | {type: 'supervisor.stopped'; pid: number; reason: string}
    | {type: 'tunnel.started'; port: number; url: string; pid: number}
    | {type: 'tunnel.stopped'; port: number; url: string | null}
    /** The tunnel's supervisor died without stopping it; its successor ended the cloudflared. */
    | {type: 'tunnel.lost'; port: number; pid: number}
    | {
        type: 'tunnel.crashed'
        port: number
        url: string | null
        exitCode: number | null
        signal: string | null
        lastLines: string[]
      }
    | {type: 'expose.started'; endpoint: string; provider: string; url: string}
    /** A saved endpoint that a new supervisor brought back, at this URL. */
    | {type: 'expose.up'; endpoint: string; provider: string; url: string}
    | {type: 'expose.stopped'; endpoint: string; provider: string; url: string | null}
    /** A provider's process died; it is started again after delayMs. */
    | ({type: 'expose.restarting'} & ProviderProcessDown)
    /** It kept dying soon after starting; it is still tried, quietly, every delayMs. */
    | ({type: 'expose.failed'} & ProviderProcessDown)
    /** After it had failed, its process has stayed up a while. */
    | {type: 'expose.recovered'; provider: string; endpoint: string | null; restarts: number}
    | {type: 'expose.url_changed'; endpoint: string; oldUrl: string; newUrl: string}
    /** An endpoint that could not be brought back: its provider is not available, or failed. */
    | {type: 'expose.unavailable'; endpoint: string; provider: string; reason: string}
    /** An endpoint file that could not be read; it is left as it is. */
    | {type: 'expose.broken'; file: string; reason: string}
    /**
     * The settings file cannot be used, and the supervisor goes on with the settings it last read;
     * or, with a key, that key's value (as the file holds it; a secret's hidden) is not valid, and
     * the setting's default is used.
     */
    | {type: 'settings.invalid'; file: string; reason: string; key?: string; value?: unknown}
  )

/** An event before the event log has numbered and stamped it. */
export type NewEvent = SupervisorEvent extends infer E ? (E extends SupervisorEvent ? Omit<E, 'id' | 'time'> : never) : never

export interface ListEventsResponse {
  events: SupervisorEvent[]
}

export const MAX_START_TIMEOUT_MS = 600_000

/** What `tunnel start` and `expose start` wait for their URL when the request names no timeoutMs. */
export const DEFAULT_START_TIMEOUT_MS = 30_000

export function parseStartTunnelRequest(body: unknown): StartTunnelRequest {
  const object = expectObject(body, ['port', 'timeoutMs', 'searchPath'])
  if (!isValidPort(object.port)) throw badInput('"port" must be an integer from 1 to 65535.')
  return {port: object.port, timeoutMs: parseTimeoutMs(object.timeoutMs), ...optionalSearchPath(object.searchPath)}
}

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

export function parseEventsQuery(params: URLSearchParams): {follow: boolean} {
  for (const key of params.keys()) {
    if (key !== 'follow') throw badInput(`Unknown query parameter "${key}"; only "follow" is accepted.`)
  }

  const follow = params.get('follow')
  if (follow !== null && follow !== '0' && follow !== '1') throw badInput('"follow" must be 0 or 1.')
  return {follow: follow === '1'}
}

// The parsers below check replies from the supervisor: the other side may be an older or broken build.

export function parseErrorBody(body: unknown): TunnelctlError | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined
  const {code, message} = body.error
  if (typeof message !== 'string' || !ERROR_CODES.includes(code as ErrorCode)) return undefined
  return new TunnelctlError(code as ErrorCode, message)
}

export function parseSupervisorStatus(body: unknown): SupervisorStatus {
  const object = expectReply(body)
  const {version, pid, startedAt, socket, configDir, tunnels, endpoints, proxyPort} = object
  if (
    typeof version !== 'string' ||
    typeof pid !== 'number' ||
    typeof startedAt !== 'string' ||
    typeof socket !== 'string' ||
    typeof configDir !== 'string' ||
    typeof tunnels !== 'number' ||
    (endpoints !== undefined && typeof endpoints !== 'number') ||
    (proxyPort !== undefined && typeof proxyPort !== 'number')
  ) {
    throw malformedReply('status')
  }

  return {version, pid, startedAt, socket, configDir, tunnels, endpoints, proxyPort}
}

export function parseTunnelInfo(value: unknown): TunnelInfo {
  const object = expectReply(value)
  const {port, url, pid, startedAt, status} = object
  if (
    !isValidPort(port) ||
    (url !== null && typeof url !== 'string') ||
    (pid !== null && typeof pid !== 'number') ||
    typeof startedAt !== 'string' ||
    (status !== 'starting' && status !== 'up')
  ) {
    throw malformedReply('tunnel')
  }

  return {port, url, pid, startedAt, status}
}

export function parseTunnelList(value: unknown): TunnelInfo[] {
  if (!Array.isArray(value)) throw malformedReply('tunnel list')
  return value.map((item) => parseTunnelInfo(item))
}

export function parseStartTunnelResponse(body: unknown): StartTunnelResponse {
  const object = expectReply(body)
  const {warnings} = object
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) throw malformedReply('start')
  return {tunnel: parseTunnelInfo(object.tunnel), warnings}
}

export function parseEvent(value: unknown): SupervisorEvent {
  const object = expectReply(value)
  if (typeof object.id !== 'number' || typeof object.time !== 'string' || typeof object.type !== 'string') {
    throw malformedReply('event')
  }

  // Events are rendered field by field with fallbacks, so beyond the envelope a newer supervisor's
  // extra fields or types are passed through rather than rejected.
  return object as unknown as SupervisorEvent
}

export function malformedReply(what: string): TunnelctlError {
  return new TunnelctlError(
    'SUPERVISOR_UNAVAILABLE',
    `The supervisor sent a malformed ${what} reply. Restart it with \`tunnelctl supervisor stop\` and try again.`,
  )
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
