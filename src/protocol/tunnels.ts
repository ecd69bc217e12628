/** The tunnel part of the control protocol (/v1/tunnels). */
import {badInput} from '../errors.js'
import {isValidPort} from '../ports.js'
import {type Scheme, SCHEMES} from './local-target.js'
import {optionalSearchPath, parseTimeoutMs} from './start-options.js'
import {expectObject, expectReply, isOneOf, malformedReply} from './wire.js'

export type TunnelStatus = 'starting' | 'up'

export interface TunnelInfo {
  port: number
  /** What the local server speaks; an https one's certificate is not verified. */
  scheme: Scheme
  url: string | null
  pid: number | null
  /** ISO 8601; uptime is derived from it by whoever renders. */
  startedAt: string
  status: TunnelStatus
  /** cloudflared sends visitors straight to the port, not through the proxy: no auth, nothing recorded. */
  direct: boolean
  /** Visitors need user tunnelctl and the password `tunnel start --auth` showed. */
  auth: boolean
}

export interface StartTunnelRequest {
  port: number
  /** http when absent. */
  scheme?: Scheme
  /** How long to wait for cloudflared's URL. */
  timeoutMs?: number
  /** The caller's PATH, where cloudflared is looked for; the supervisor's own when absent. */
  searchPath?: string
  /**
   * Held by this request's connection (`tunnel run`): the reply is NDJSON, the StartTunnelResponse
   * and then the tunnel's events, and the tunnel is stopped when the connection closes.
   */
  held?: boolean
  /** With held: the caller started this supervisor for the run, which it may end once nothing is left. */
  oneOff?: boolean
  /** cloudflared → port, past the proxy. */
  direct?: boolean
  /** Basic auth with a new random password, returned once; not with direct. */
  auth?: boolean
}

export interface StartTunnelResponse {
  tunnel: TunnelInfo
  /** Only with auth. The supervisor keeps just its bcrypt hash, in memory, while the tunnel runs. */
  password?: string
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

export function parseStartTunnelRequest(body: unknown): StartTunnelRequest {
  const object = expectObject(body, ['port', 'scheme', 'timeoutMs', 'searchPath', 'held', 'oneOff', 'direct', 'auth'])
  const {port, scheme, direct, auth} = object
  if (!isValidPort(port)) throw badInput('"port" must be an integer from 1 to 65535.')
  if (scheme !== undefined && !isOneOf(SCHEMES, scheme)) throw badInput('"scheme" must be "http" or "https".')
  if (direct !== undefined && typeof direct !== 'boolean') throw badInput('"direct" must be true or false.')
  if (auth !== undefined && typeof auth !== 'boolean') throw badInput('"auth" must be true or false.')
  if (direct && auth) throw badInput('"direct" and "auth" cannot both be true: the proxy asks for the password, and a direct tunnel goes past it. Leave out "direct".')
  return {
    port,
    scheme,
    timeoutMs: parseTimeoutMs(object.timeoutMs),
    ...optionalSearchPath(object.searchPath),
    ...parseHold(object),
    ...(direct && {direct}),
    ...(auth && {auth}),
  }
}

function parseHold({held, oneOff}: Record<string, unknown>): Pick<StartTunnelRequest, 'held' | 'oneOff'> {
  if (held !== undefined && typeof held !== 'boolean') throw badInput('"held" must be true or false.')
  if (oneOff !== undefined && typeof oneOff !== 'boolean') throw badInput('"oneOff" must be true or false.')
  if (oneOff && !held) throw badInput('"oneOff" is only for a held tunnel: give "held": true as well.')
  return held ? {held, ...(oneOff && {oneOff})} : {}
}

export function parseTunnelInfo(value: unknown): TunnelInfo {
  const object = expectReply(value)
  const {port, scheme, url, pid, startedAt, status, direct, auth} = object
  if (
    !isValidPort(port) ||
    !isOneOf(SCHEMES, scheme) ||
    (url !== null && typeof url !== 'string') ||
    (pid !== null && typeof pid !== 'number') ||
    typeof startedAt !== 'string' ||
    (status !== 'starting' && status !== 'up') ||
    typeof direct !== 'boolean' ||
    typeof auth !== 'boolean'
  ) {
    throw malformedReply('tunnel')
  }

  return {port, scheme, url, pid, startedAt, status, direct, auth}
}

export function parseTunnelList(value: unknown): TunnelInfo[] {
  if (!Array.isArray(value)) throw malformedReply('tunnel list')
  return value.map((item) => parseTunnelInfo(item))
}

export function parseStartTunnelResponse(body: unknown): StartTunnelResponse {
  const object = expectReply(body)
  const {warnings, password} = object
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) throw malformedReply('start')
  if (password !== undefined && typeof password !== 'string') throw malformedReply('start')
  const tunnel = parseTunnelInfo(object.tunnel)
  return password === undefined ? {tunnel, warnings} : {tunnel, warnings, password}
}
