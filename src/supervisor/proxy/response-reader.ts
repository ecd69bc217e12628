import type {HeaderLines} from './forwarding.js'

/** As much head as node:http takes from a client (its default maxHeaderSize); chunk lines and trailers share the limit. */
const MAX_HEAD_BYTES = 16 * 1024
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/
const DIGITS = /^\d{1,15}$/
/** A size and its extensions, each a token with an optional token or quoted value (RFC 9112 7.1.1; llhttp takes an empty one too), without the optional spaces around `;` that llhttp refuses. */
const CHUNK_SIZE_LINE = /^([\da-fA-F]{1,13})(?:;[!#$%&'*+\-.^_`|~\w]+(?:=(?:[!#$%&'*+\-.^_`|~\w]*|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/
const TOKEN = /^[!#$%&'*+\-.^_`|~\w]+$/
/** Any character a field value may not hold: controls other than tab, a lone CR or LF included. */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i
const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i
const KEEP_ALIVE_TOKEN = /(?:^|,)[ \t]*keep-alive[ \t]*(?:,|$)/i

/** The upstream answered with something that is not HTTP/1.1 as RFC 9112 frames it. */
export class MalformedResponse extends Error {}

/** An interim (1xx) answer, which a response proper follows. */
export interface InterimHead {
  status: number
  statusText: string
  lines: HeaderLines
}

export interface ResponseHead extends InterimHead {
  /** Every header line as it came, hop-by-hop ones included, but a Content-Length beside Transfer-Encoding. */
  lines: HeaderLines
  /** Whether the connection may carry another request once the body is read. */
  keepAlive: boolean
  /** How long the server keeps an idle connection open, when it says (Keep-Alive: timeout=N). */
  idleTimeoutMs?: number
  /** The body comes in chunks, which may end in trailers. */
  chunked: boolean
  /** Transfer codings other than a final chunked (e.g. `gzip`), which the body still comes in, as Transfer-Encoding listed them. */
  codings?: string
  /** The body's length in bytes, when a Content-Length frames it. */
  length?: number
  /** The head as it came, status line and all: one string to tell it from another. */
  raw: string
}

export interface ResponseSink {
  interim(head: InterimHead): void
  head(head: ResponseHead): void
  body(chunk: Buffer): void
  /** `trailers`: the lines of the trailer section after the last chunk, none for most. */
  end(trailers: HeaderLines): void
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done'

/**
 * Reads one HTTP/1.1 response from the bytes of a connection as they arrive, and hands the sink its
 * interim (1xx) answers, its head, then its body without framing, then its end with any trailers. A
 * response the reader cannot frame with certainty throws MalformedResponse: a proxy that guessed
 * would desynchronise the connection it keeps for the next request. It reads what llhttp (Node's
 * own parser) reads and refuses what llhttp refuses, with two exceptions: a Content-Length beside
 * Transfer-Encoding is dropped (RFC 9112 6.3, as nginx and Caddy do) rather than refused, and a 101
 * is refused: test/unit/response-reader-fuzz.test.ts holds it to that.
 */
export class ResponseReader {
  private state: State = 'head'
  /** Bytes of a head or a chunk line whose end has not arrived yet. */
  private partial: Buffer | undefined
  private remaining = 0
  private trailers: HeaderLines = []
  /** Bytes came after the end of the response: the connection cannot be trusted with another. */
  overrun = false

  /** `bodiless`: the request was HEAD, whose response has a length but no body. */
  constructor(
    private readonly sink: ResponseSink,
    private readonly bodiless: boolean,
  ) {}

  get done(): boolean {
    return this.state === 'done'
  }

  push(chunk: Buffer): void {
    let data = chunk
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk])
      this.partial = undefined
    }

    let offset = 0
    while (offset < data.length) {
      switch (this.state) {
        case 'head':
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const end = data.indexOf(this.state === 'head' ? '\r\n\r\n' : '\r\n', offset, 'latin1')
          if (end === -1) return this.keepPartial(data, offset)
          const text = data.toString('latin1', offset, end)
          offset = end + (this.state === 'head' ? 4 : 2)
          this.readLine(text)
          break
        }

        case 'length':
        case 'chunk-data': {
          const take = Math.min(this.remaining, data.length - offset)
          this.remaining -= take
          this.sink.body(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take))
          offset += take
          if (this.remaining > 0) break
          if (this.state === 'length') this.finish()
          else this.state = 'chunk-end'
          break
        }

        case 'until-close':
          this.sink.body(offset === 0 ? data : data.subarray(offset))
          return

        case 'done':
          this.overrun = true
          return
      }
    }
  }

  /** The upstream closed its side: the end of a body delimited by closing, or a response cut short. */
  close(): void {
    if (this.state === 'until-close') return this.finish()
    if (this.state !== 'done') throw new MalformedResponse('the upstream closed the connection before the response was complete')
  }

  private keepPartial(data: Buffer, offset: number): void {
    if (data.length - offset > MAX_HEAD_BYTES) throw new MalformedResponse('response head or chunk line too long')
    // A copy: whoever pushed the bytes may use their memory again once push returns.
    this.partial = Buffer.from(data.subarray(offset))
  }

  private readLine(text: string): void {
    switch (this.state) {
      case 'head':
        return this.readHead(text)
      case 'chunk-size': {
        const size = CHUNK_SIZE_LINE.exec(text)
        if (!size) throw new MalformedResponse(`bad chunk size line ${JSON.stringify(text)}`)
        this.remaining = Number.parseInt(size[1], 16)
        this.state = this.remaining === 0 ? 'trailers' : 'chunk-data'
        return
      }

      case 'chunk-end':
        if (text !== '') throw new MalformedResponse('chunk longer than its size')
        this.state = 'chunk-size'
        return
      case 'trailers':
        if (text === '') this.finish()
        else readField(text, 0, text.length, this.trailers)
    }
  }

  private readHead(text: string): void {
    let lineEnd = text.indexOf('\r\n')
    const statusLine = STATUS_LINE.exec(lineEnd === -1 ? text : text.slice(0, lineEnd))
    if (!statusLine) throw new MalformedResponse(`bad status line ${JSON.stringify(text.split('\r\n')[0])}`)
    const status = Number(statusLine[2])
    if (status === 101) throw new MalformedResponse('101 Switching Protocols to a request that asked for no upgrade')

    const headers: HeaderLines = []
    let lengthAt: number | undefined
    let transferEncoding: string | undefined
    let connection = ''
    let keepAliveHeader: string | undefined
    // Line by line through the one string, without an array of lines or a string per line.
    while (lineEnd !== -1) {
      const start = lineEnd + 2
      lineEnd = text.indexOf('\r\n', start)
      const name = readField(text, start, lineEnd === -1 ? text.length : lineEnd, headers)
      // Most names are none of these four: their lengths rule them out without a lower-case copy.
      if (name.length !== 10 && name.length !== 14 && name.length !== 17) continue
      const value = headers.at(-1)!
      switch (name.toLowerCase()) {
        case 'content-length':
          if (lengthAt !== undefined) throw new MalformedResponse('more than one Content-Length')
          if (!DIGITS.test(value)) throw new MalformedResponse(`bad Content-Length ${JSON.stringify(value)}`)
          lengthAt = headers.length - 2
          break
        case 'transfer-encoding':
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`
          break
        case 'connection':
          connection += `,${value}`
          break
        case 'keep-alive':
          keepAliveHeader = value
      }
    }

    // An interim answer (102 Processing, 103 Early Hints): the response proper follows.
    if (status < 200) return this.sink.interim({status, statusText: statusLine[3] ?? '', lines: headers})

    const idleTimeout = keepAliveHeader === undefined ? undefined : KEEP_ALIVE_TIMEOUT.exec(keepAliveHeader)
    const head: ResponseHead = {
      status,
      statusText: statusLine[3] ?? '',
      lines: headers,
      // HTTP/1.0 keeps the connection only when it says so (RFC 9112 9.3).
      keepAlive: statusLine[1] === '1' ? !CLOSE_TOKEN.test(connection) : KEEP_ALIVE_TOKEN.test(connection) && !CLOSE_TOKEN.test(connection),
      idleTimeoutMs: idleTimeout ? Number(idleTimeout[1]) * 1000 : undefined,
      chunked: false,
      length: undefined,
      raw: text,
    }
    if (transferEncoding !== undefined && lengthAt !== undefined) {
      // Transfer-Encoding wins and the length goes (RFC 9112 6.3); a server that sends both is not trusted with another request.
      headers.splice(lengthAt, 2)
      lengthAt = undefined
      head.keepAlive = false
    }

    this.state = this.framing(status, headers, lengthAt, transferEncoding, head)
    this.sink.head(head)
    if (this.state === 'length' && this.remaining === 0) this.finish()
  }

  /** How the body is delimited (RFC 9112 6.3), and what that tells `head`; sets `remaining` for a length. */
  private framing(status: number, headers: HeaderLines, lengthAt: number | undefined, transferEncoding: string | undefined, head: ResponseHead): State {
    const codings = transferEncoding?.split(',').map((coding) => coding.trim())
    const chunked = codings?.at(-1)!.toLowerCase() === 'chunked'
    if (status === 204 || status === 304) {
      this.remaining = 0
      return 'length'
    }

    if (this.bodiless) {
      // llhttp decides before it knows that the answer to HEAD has no body, and closes what it would have read to the end.
      if (!chunked && lengthAt === undefined) head.keepAlive = false
      this.remaining = 0
      return 'length'
    }

    if (codings !== undefined) {
      const applied = chunked ? codings.slice(0, -1) : codings
      if (applied.length > 0) head.codings = applied.join(', ')
      head.chunked = chunked
      if (chunked) return 'chunk-size'
      head.keepAlive = false
      return 'until-close'
    }

    if (lengthAt === undefined) {
      head.keepAlive = false
      return 'until-close'
    }

    this.remaining = head.length = Number(headers[lengthAt + 1])
    return 'length'
  }

  private finish(): void {
    this.state = 'done'
    this.sink.end(this.trailers)
  }
}

/**
 * Reads the field line between `start` and `end` into `lines` and returns its name. A folded line
 * (a leading space) is obsolete and refused (RFC 9112 5.2), like a line without a name, a name that
 * is not a token, and a value with a control character in it.
 */
function readField(text: string, start: number, end: number, lines: HeaderLines): string {
  const colon = text.indexOf(':', start)
  const name = colon > start && colon < end ? text.slice(start, colon) : ''
  const value = colon > start && colon < end ? trimmedSlice(text, colon + 1, end) : ''
  if (!TOKEN.test(name) || NOT_FIELD_VALUE.test(value)) throw new MalformedResponse(`bad header line ${JSON.stringify(text.slice(start, end))}`)
  lines.push(name, value)
  return name
}

/** `text` from `start` to `end` without the spaces and tabs around it (a header value's OWS), and only those. */
function trimmedSlice(text: string, start: number, end: number): string {
  while (start < end && isWhitespace(text.charCodeAt(start))) start++
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9
}
