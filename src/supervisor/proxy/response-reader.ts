import type {HeaderLines} from './forwarding.js'

/** As much head as node:http takes from a client (its default maxHeaderSize); chunk lines and trailers share the limit. */
const MAX_HEAD_BYTES = 16 * 1024
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/
const DIGITS = /^\d{1,15}$/
const CHUNK_SIZE_LINE = /^([\da-fA-F]{1,13})[ \t]*(?:;[^\r\n]*)?$/
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i
const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i

/** The upstream answered with something that is not HTTP/1.1 as RFC 9112 frames it. */
export class MalformedResponse extends Error {}

export interface ResponseHead {
  status: number
  statusText: string
  /** Every header line as it came, hop-by-hop ones included. */
  lines: HeaderLines
  /** Whether the connection may carry another request once the body is read. */
  keepAlive: boolean
  /** How long the server keeps an idle connection open, when it says (Keep-Alive: timeout=N). */
  idleTimeoutMs?: number
}

export interface ResponseSink {
  head(head: ResponseHead): void
  body(chunk: Buffer): void
  end(): void
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done'

/**
 * Reads one HTTP/1.1 response from the bytes of a connection as they arrive, and hands the sink its
 * head, then its body without framing, then its end. Interim (1xx) answers are skipped. A response
 * the reader cannot frame with certainty throws MalformedResponse: a proxy that guessed would
 * desynchronise the connection it keeps for the next request.
 */
export class ResponseReader {
  private state: State = 'head'
  /** Bytes of a head or a chunk line whose end has not arrived yet. */
  private partial: Buffer | undefined
  private remaining = 0
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
    this.partial = data.subarray(offset)
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
      // Trailers are dropped, as undici and most proxies drop them; the empty line ends the body.
      case 'trailers':
        if (text === '') this.finish()
    }
  }

  private readHead(text: string): void {
    let lineEnd = text.indexOf('\r\n')
    const statusLine = STATUS_LINE.exec(lineEnd === -1 ? text : text.slice(0, lineEnd))
    if (!statusLine) throw new MalformedResponse(`bad status line ${JSON.stringify(text.split('\r\n')[0])}`)
    const status = Number(statusLine[2])
    if (status === 101) throw new MalformedResponse('101 Switching Protocols to a request that asked for no upgrade')
    // An interim answer (100 Continue, 103 Early Hints): the response proper follows.
    if (status < 200) return

    const headers: HeaderLines = []
    let contentLength: string | undefined
    let transferEncoding: string | undefined
    let closes = false
    let keepAliveHeader: string | undefined
    // Line by line through the one string, without an array of lines or a string per line.
    while (lineEnd !== -1) {
      const start = lineEnd + 2
      lineEnd = text.indexOf('\r\n', start)
      const end = lineEnd === -1 ? text.length : lineEnd
      const colon = text.indexOf(':', start)
      const first = text.charCodeAt(start)
      // Folded lines (a leading space) are obsolete and refused (RFC 9112 5.2), like a line with no name.
      if (colon <= start || colon >= end || first === 32 || first === 9) throw new MalformedResponse(`bad header line ${JSON.stringify(text.slice(start, end))}`)
      const name = text.slice(start, colon)
      const value = trimmedSlice(text, colon + 1, end)
      headers.push(name, value)
      // Most names are none of these four: their lengths rule them out without a lower-case copy.
      if (name.length !== 10 && name.length !== 14 && name.length !== 17) continue
      switch (name.toLowerCase()) {
        case 'content-length':
          if (contentLength !== undefined) throw new MalformedResponse('more than one Content-Length')
          contentLength = value
          break
        case 'transfer-encoding':
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`
          break
        case 'connection':
          closes ||= CLOSE_TOKEN.test(value)
          break
        case 'keep-alive':
          keepAliveHeader = value
      }
    }

    const idleTimeout = keepAliveHeader === undefined ? undefined : KEEP_ALIVE_TIMEOUT.exec(keepAliveHeader)
    const head: ResponseHead = {
      status,
      statusText: statusLine[3] ?? '',
      lines: headers,
      keepAlive: statusLine[1] === '1' && !closes,
      idleTimeoutMs: idleTimeout ? Number(idleTimeout[1]) * 1000 : undefined,
    }
    this.state = this.framing(status, contentLength, transferEncoding)
    if (this.state === 'until-close') head.keepAlive = false
    this.sink.head(head)
    if (this.state === 'length' && this.remaining === 0) this.finish()
  }

  /** How the body is delimited (RFC 9112 6.3); sets `remaining` for a length. */
  private framing(status: number, contentLength: string | undefined, transferEncoding: string | undefined): State {
    if (this.bodiless || status === 204 || status === 304) {
      this.remaining = 0
      return 'length'
    }

    if (transferEncoding !== undefined) {
      // Both at once is how requests are smuggled; a sound server never sends it.
      if (contentLength !== undefined) throw new MalformedResponse('both Transfer-Encoding and Content-Length')
      const last = transferEncoding.split(',').at(-1)!.trim().toLowerCase()
      return last === 'chunked' ? 'chunk-size' : 'until-close'
    }

    if (contentLength === undefined) return 'until-close'
    if (!DIGITS.test(contentLength)) throw new MalformedResponse(`bad Content-Length ${JSON.stringify(contentLength)}`)
    this.remaining = Number(contentLength)
    return 'length'
  }

  private finish(): void {
    this.state = 'done'
    this.sink.end()
  }
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
