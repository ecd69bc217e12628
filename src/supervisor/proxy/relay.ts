import type {IncomingMessage, ServerResponse} from 'node:http'
import {type Duplex, pipeline} from 'node:stream'
import type {Recording} from '../inspect/recording.js'
import {endToEnd, firstHeader, type HeaderLines, hasBody, linesNamed, rawRequestHead, rawResponseHead, switchingProtocolsHeaders, upstreamRequestHeaders} from './forwarding.js'
import {answer, answerOnSocket, nothingAnswers, noAnswerInTime, type PlainAnswer, unreadableAnswer, untransferable} from './plain-answers.js'
import type {InterimHead, ResponseHead} from './response-reader.js'
import {type ProxyTarget, targetName, upgradeRequestTo} from './upstream.js'
import type {Exchange, ExchangeFailure, ResponseHandler, UpstreamPools, UpstreamRequest} from './upstream-pool.js'

/** Where an admitted request goes. */
export interface Destination {
  target: ProxyTarget
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/** Sends `request` to its destination over one of the target's kept connections and streams the answer back. */
export function relayRequest(request: IncomingMessage, response: ServerResponse, destination: Destination, pools: UpstreamPools, recording?: Recording): void {
  new Relay(request, response, destination, pools, false, recording).start()
}

/**
 * One request on its way: the upstream's answer goes to the client as it comes. A kept connection
 * that fails before any answer (the upstream closed it just as it was picked) gets an idempotent
 * request without a body sent again, once, on a new connection. A proxy must not send any other
 * again (RFC 9110 9.2.2), and a body is gone with the dead connection anyway: those get the 502.
 */
class Relay implements ResponseHandler {
  private exchange: Exchange | undefined
  private complete = false
  /** The client gets the response's trailers. */
  private trailers = false

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly destination: Destination,
    private readonly pools: UpstreamPools,
    private readonly retried: boolean,
    private readonly recording: Recording | undefined,
  ) {}

  start(): void {
    const upstream = upstreamRequest(this.request, this.destination)
    // In the tick the upload starts (only a request without a body is ever sent again).
    if (upstream.body) this.recording?.tapRequestBody(upstream.body)
    const exchange = this.pools.send(this.destination.target, upstream, this, {fresh: this.retried})
    this.exchange = exchange
    this.response.once('close', () => {
      // The client went away: stop the upload and the download with it.
      if (!this.complete) exchange.abort()
      // One listener for both: with a second on every response, Node keeps an array of listeners and copies it at each close.
      this.recording?.closed(this.response)
    })
  }

  /**
   * Passes an interim answer (103 Early Hints) on at once (RFC 9110 15.2), but 100 Continue: Node
   * has given a client that asked (Expect: 100-continue) its own. An HTTP/1.0 client must get none,
   * and a response queued behind another on a pipelined connection has no socket yet: a hint that
   * late is worth nothing.
   */
  interim({status, statusText, lines}: InterimHead): void {
    const {socket} = this.response
    if (status === 100 || !speaksHttp11(this.request) || !socket?.writable || this.response.headersSent) return
    socket.write(rawResponseHead(status, statusText, endToEnd(lines)), 'latin1')
  }

  head(head: ResponseHead): void {
    const {status, statusText, lines, chunked, codings} = head
    const {request} = this
    const headers = endToEnd(lines)
    if (codings !== undefined) {
      // The body goes on still in its codings, which only Transfer-Encoding names: unlabelled it would be corrupt.
      // HTTP/1.0 has no Transfer-Encoding, and a body chunked twice cannot be framed again.
      if (!speaksHttp11(request) || CHUNKED_TOKEN.test(codings)) return this.refuse(untransferable(targetName(this.destination.target), codings))
      headers.push('transfer-encoding', `${codings}, chunked`)
    }

    // Trailers need the chunks the body goes on in, and a client that takes them (RFC 9110 6.5).
    this.trailers = chunked && speaksHttp11(request) && acceptsTrailers(request)
    if (this.trailers) headers.push(...linesNamed(lines, 'trailer'))
    // node:http sends the head with the first write of the body or the end, in one write with it.
    this.response.writeHead(status, statusText, headers)
    this.recording?.head(head)
  }

  headAlone(): void {
    this.response.flushHeaders()
  }

  /**
   * node:http holds every write back until the next tick (so that the head goes out with the body),
   * and says to wait whenever a write is larger than the socket's high-water mark, which most reads
   * of a large body are. Such a write goes out at once instead, and the upstream is paused only when
   * the client has not taken it: waiting for 'drain' after every chunk would stall the body as often.
   */
  body(chunk: Buffer): boolean {
    this.recording?.body(chunk)
    const {response} = this
    if (response.write(chunk)) return false
    response.socket?.uncork()
    if (response.writableLength === 0) return true
    if (response.writableLength < response.writableHighWaterMark) return false
    const exchange = this.exchange!
    exchange.pause()
    this.response.once('drain', () => exchange.resume())
    return false
  }

  end(trailers: HeaderLines): void {
    this.complete = true
    if (this.trailers && trailers.length > 0) this.response.addTrailers(pairs(endToEnd(trailers)))
    this.response.end()
  }

  fail({responded, reused, cause}: ExchangeFailure): void {
    this.complete = true
    const {request, response, destination} = this
    const where = targetName(destination.target)
    // After the head, a body cut short cannot be told apart from a whole one except by cutting the client off too.
    if (response.headersSent) response.destroy()
    else if (cause === 'closed' && !responded && reused && !this.retried && !response.destroyed && mayRepeat(request)) new Relay(request, response, destination, this.pools, true, this.recording).start()
    else if (cause === 'timed-out') answer(response, noAnswerInTime(where, this.pools.responseTimeoutMs / 1000))
    else answer(response, (cause === 'unreadable' ? unreadableAnswer : nothingAnswers)(where))
  }

  /** Answers `plain` in place of the response, whose connection is given up. */
  private refuse(plain: PlainAnswer): void {
    this.complete = true
    this.exchange!.abort()
    answer(this.response, plain)
  }
}

const CHUNKED_TOKEN = /(?:^|,)[ \t]*chunked[ \t]*(?:,|$)/i
const TRAILERS_TOKEN = /(?:^|,)[ \t]*trailers[ \t]*(?:[;,]|$)/i

function speaksHttp11({httpVersionMajor, httpVersionMinor}: IncomingMessage): boolean {
  return httpVersionMajor > 1 || (httpVersionMajor === 1 && httpVersionMinor >= 1)
}

/** The client said it takes trailers (TE: trailers), or sent its own request in chunks, which may end in trailers. */
function acceptsTrailers({rawHeaders}: IncomingMessage): boolean {
  return firstHeader(rawHeaders, 'transfer-encoding') !== undefined || TRAILERS_TOKEN.test(linesNamed(rawHeaders, 'te').filter((_, index) => index % 2 === 1).join(','))
}

/** Lines as the [name, value] pairs addTrailers takes. */
function pairs(lines: HeaderLines): [string, string][] {
  const result: [string, string][] = []
  for (let index = 0; index < lines.length; index += 2) result.push([lines[index], lines[index + 1]])
  return result
}

function upstreamRequest(request: IncomingMessage, {keepAuthorization}: Destination): UpstreamRequest {
  const lines = upstreamRequestHeaders(request, {upgrade: false, keepAuthorization})
  const withBody = hasBody(request.rawHeaders)
  // Without a length, the body is passed on in chunks as it comes (Transfer-Encoding is per hop, so the client's own framing is gone).
  const length = firstHeader(request.rawHeaders, 'content-length')
  const chunked = withBody && length === undefined
  if (chunked) lines.push('transfer-encoding', 'chunked')
  // Some servers wait for a body that no header says is empty (RFC 9110 8.6 asks for the length).
  else if (length === undefined && METHODS_WITH_CONTENT.has(request.method!)) lines.push('content-length', '0')
  return {head: rawRequestHead(request.method!, request.url!, lines), body: withBody ? request : undefined, chunked, bodiless: request.method === 'HEAD'}
}

const METHODS_WITH_CONTENT = new Set(['POST', 'PUT', 'PATCH'])

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

function mayRepeat({method, rawHeaders}: IncomingMessage): boolean {
  return IDEMPOTENT_METHODS.has(method!) && !hasBody(rawHeaders)
}

/**
 * Passes an upgrade (a WebSocket) on over a connection of its own, which the upgrade keeps, and
 * splices the two connections together. `track` is given the upstream's socket, so that it can be
 * ended with the proxy.
 */
export function relayUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, destination: Destination, track: (socket: Duplex) => void, recording?: Recording): void {
  const headers = upstreamRequestHeaders(request, {upgrade: true, keepAuthorization: destination.keepAuthorization})
  const upstream = upgradeRequestTo(destination.target, request, headers)
  let answered = false
  upstream.on('upgrade', (upstreamResponse, upstreamSocket, upstreamHead) => {
    answered = true
    recording?.head({status: 101, lines: upstreamResponse.rawHeaders})
    recording?.end(101)
    track(upstreamSocket)
    socket.write(rawResponseHead(101, upstreamResponse.statusMessage, switchingProtocolsHeaders(upstreamResponse)))
    socket.write(upstreamHead)
    upstreamSocket.write(head)
    splice(socket, upstreamSocket)
  })
  upstream.on('response', (upstreamResponse) => {
    // The upstream declined to upgrade: pass its answer on, delimited by closing the connection.
    answered = true
    recording?.head({status: upstreamResponse.statusCode!, lines: upstreamResponse.rawHeaders})
    socket.write(rawResponseHead(upstreamResponse.statusCode!, upstreamResponse.statusMessage, [...endToEnd(upstreamResponse.rawHeaders), 'connection', 'close']))
    pipeline(upstreamResponse, socket, () => socket.destroy())
  })
  upstream.on('error', () => (answered ? socket.destroy() : answerOnSocket(socket, nothingAnswers(targetName(destination.target)))))
  socket.on('close', () => {
    upstream.destroy()
    recording?.end(null)
  })
  upstream.end()
}

/** Pipes two sockets into each other until either ends or fails, then destroys both. */
function splice(a: Duplex, b: Duplex): void {
  const destroyBoth = () => {
    a.destroy()
    b.destroy()
  }

  for (const socket of [a, b]) {
    socket.on('error', destroyBoth)
    socket.on('close', destroyBoth)
  }

  a.pipe(b).pipe(a)
}
