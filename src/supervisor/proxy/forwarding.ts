import {type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, STATUS_CODES} from 'node:http'

/** Headers about one connection, not the message (RFC 9110 7.6.1): each hop sets its own. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/** The headers minus hop-by-hop ones, including any the Connection header names. */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = (headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase())
  const dropped = new Set([...HOP_BY_HOP, ...named])
  const kept: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !dropped.has(name)) kept[name] = value
  }

  return kept
}

export interface UpstreamHeaderOptions {
  /** Keep Connection: Upgrade and Upgrade, which are the point of an upgrade request. */
  upgrade: boolean
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/** What the upstream is sent: the client's headers, Host untouched, with X-Forwarded-* added. */
export function upstreamRequestHeaders(request: IncomingMessage, {upgrade, keepAuthorization}: UpstreamHeaderOptions): OutgoingHttpHeaders {
  const headers = endToEnd(request.headers)
  if (!keepAuthorization) delete headers.authorization
  if (upgrade) {
    headers.connection = 'Upgrade'
    headers.upgrade = request.headers.upgrade
  }

  const client = request.socket.remoteAddress ?? 'unknown'
  const forwardedFor = request.headers['x-forwarded-for']
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client}` : client
  // The public side (cloudflared) knows whether the visitor came over https; we only ever see http.
  headers['x-forwarded-proto'] = request.headers['x-forwarded-proto'] ?? 'http'
  headers['x-forwarded-host'] = request.headers.host
  return headers
}

/** The upstream's 101, keeping the headers that say what the connection became. */
export function switchingProtocolsHeaders(response: IncomingMessage): OutgoingHttpHeaders {
  return {...endToEnd(response.headers), connection: 'Upgrade', upgrade: response.headers.upgrade}
}

/** A response head for a socket no longer managed by node:http (upgrades and CONNECT). */
export function rawResponseHead(status: number, message: string | undefined, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${status} ${message ?? STATUS_CODES[status] ?? ''}`]
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`)
  }

  return `${lines.join('\r\n')}\r\n\r\n`
}
