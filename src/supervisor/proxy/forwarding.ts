import {type IncomingMessage, STATUS_CODES} from 'node:http'

/**
 * Header lines as Node's rawHeaders lists them: name, value, name, value... The proxy reads and
 * passes on headers in this form, so that Node builds no headers object per message for the proxy
 * only to copy it, and lines reach the other side as they came, repeated ones included.
 */
export type HeaderLines = string[]

/** Headers about one connection, not the message (RFC 9110 7.6.1): each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/** Whether a header's name is `name` (in lower case), in any case: told without a lower-case copy, which is a new string per header line. */
function isNamed(line: string, name: string): boolean {
  if (line.length !== name.length) return false
  for (let index = 0; index < name.length; index++) {
    const code = line.charCodeAt(index)
    const lower = name.charCodeAt(index)
    // An upper-case ASCII letter is its lower-case one less 32.
    if (code !== lower && !(lower >= 97 && lower <= 122 && code === lower - 32)) return false
  }

  return true
}

/** The first value of header `name` (in lower case), which is the one Node's headers object would give. */
export function firstHeader(lines: HeaderLines, name: string): string | undefined {
  for (let index = 0; index < lines.length; index += 2) {
    if (isNamed(lines[index], name)) return lines[index + 1]
  }

  return undefined
}

/** Every line of header `name` (in lower case), in order. */
export function linesNamed(lines: HeaderLines, name: string): HeaderLines {
  const found: HeaderLines = []
  for (let index = 0; index < lines.length; index += 2) {
    if (isNamed(lines[index], name)) found.push(lines[index], lines[index + 1])
  }

  return found
}

/** Whether a request comes with a body: only Content-Length or Transfer-Encoding says it does (RFC 9112 6.3). */
export function hasBody(lines: HeaderLines): boolean {
  const length = firstHeader(lines, 'content-length')
  return (length !== undefined && length !== '0') || firstHeader(lines, 'transfer-encoding') !== undefined
}

/** The lengths of the hop-by-hop names: a name of another length is none of them, which takes no lower-case copy to tell. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length))

/** The lines minus hop-by-hop ones, including any the Connection header names. */
export function endToEnd(lines: HeaderLines): HeaderLines {
  const kept: HeaderLines = []
  let connection = ''
  for (let index = 0; index < lines.length; index += 2) {
    const name = HOP_BY_HOP_LENGTHS.has(lines[index].length) ? lines[index].toLowerCase() : ''
    if (name === 'connection') connection += `,${lines[index + 1]}`
    else if (!HOP_BY_HOP.has(name)) kept.push(lines[index], lines[index + 1])
  }

  return withoutNamed(kept, connection)
}

/** `lines` minus those the Connection header's tokens name, beyond the usual hop-by-hop ones, which are gone already. */
function withoutNamed(lines: HeaderLines, connection: string): HeaderLines {
  let named: Set<string> | undefined
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase()
    // Host is routed by and must reach the upstream whatever the client says.
    if (name !== '' && name !== 'close' && name !== 'host' && !HOP_BY_HOP.has(name)) (named ??= new Set()).add(name)
  }

  if (named === undefined) return lines
  const kept: HeaderLines = []
  for (let index = 0; index < lines.length; index += 2) {
    if (!named.has(lines[index].toLowerCase())) kept.push(lines[index], lines[index + 1])
  }

  return kept
}

export interface UpstreamHeaderOptions {
  /** Keep Connection: Upgrade and Upgrade, which are the point of an upgrade request. */
  upgrade: boolean
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/** What the upstream is sent: the client's end-to-end headers, Host untouched, with X-Forwarded-* in place of the client's own. */
export function upstreamRequestHeaders(request: IncomingMessage, {upgrade, keepAuthorization}: UpstreamHeaderOptions): HeaderLines {
  const raw = request.rawHeaders
  const kept: HeaderLines = []
  let host: string | undefined
  let forwardedFor = ''
  let forwardedProto = ''
  let connection = ''
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index].toLowerCase()
    const value = raw[index + 1]
    switch (name) {
      // Node has answered the client's Expect: 100-continue already; the upstream would wait to give its own.
      // (Transfer-Encoding, hop-by-hop, goes too: the body is framed again on the way.)
      case 'expect':
        continue
      case 'host':
        // The first, which is the one the request was routed by.
        if (host !== undefined) continue
        host = value
        break
      case 'authorization':
        if (!keepAuthorization) continue
        break
      case 'connection':
        connection += `,${value}`
        continue
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === '' ? value : `${forwardedFor}, ${value}`
        continue
      case 'x-forwarded-proto':
        forwardedProto = forwardedProto === '' ? value : `${forwardedProto}, ${value}`
        continue
      case 'x-forwarded-host':
        continue
      default:
        if (HOP_BY_HOP.has(name)) continue
    }

    kept.push(raw[index], value)
  }

  const headers = withoutNamed(kept, connection)
  if (upgrade) headers.push('connection', 'Upgrade', 'upgrade', firstHeader(raw, 'upgrade') ?? '')
  const client = request.socket.remoteAddress ?? 'unknown'
  headers.push('x-forwarded-for', forwardedFor === '' ? client : `${forwardedFor}, ${client}`)
  // The public side (cloudflared) knows whether the visitor came over https; we only ever see http.
  headers.push('x-forwarded-proto', forwardedProto === '' ? 'http' : forwardedProto)
  if (host !== undefined) headers.push('x-forwarded-host', host)
  return headers
}

/** The upstream's 101, keeping the headers that say what the connection became. */
export function switchingProtocolsHeaders(response: IncomingMessage): HeaderLines {
  return [...endToEnd(response.rawHeaders), 'connection', 'Upgrade', 'upgrade', firstHeader(response.rawHeaders, 'upgrade') ?? '']
}

/** A request head for the upstream. Node's parser has refused any line break or control character in the parts already. */
export function rawRequestHead(method: string, url: string, lines: HeaderLines): string {
  let head = `${method} ${url} HTTP/1.1\r\n`
  for (let index = 0; index < lines.length; index += 2) head += `${lines[index]}: ${lines[index + 1]}\r\n`
  return `${head}\r\n`
}

/** A response head for a socket no longer managed by node:http (upgrades and CONNECT). */
export function rawResponseHead(status: number, message: string | undefined, lines: HeaderLines): string {
  let head = `HTTP/1.1 ${status} ${message ?? STATUS_CODES[status] ?? ''}\r\n`
  for (let index = 0; index < lines.length; index += 2) head += `${lines[index]}: ${lines[index + 1]}\r\n`
  return `${head}\r\n`
}
