import type {IncomingMessage, ServerResponse} from 'node:http'
import {type Duplex, pipeline} from 'node:stream'
import {endToEnd, firstHeader, hasBody, rawRequestHead, rawResponseHead, switchingProtocolsHeaders, upstreamRequestHeaders} from './forwarding.js'
import {answer, answerOnSocket, nothingAnswers, unreadableAnswer} from './plain-answers.js'
import type {ResponseHead} from './response-reader.js'
import {type ProxyTarget, targetName, upgradeRequestTo} from './upstream.js'
import type {Exchange, ExchangeFailure, ResponseHandler, UpstreamPools, UpstreamRequest} from './upstream-pool.js'

/** Where an admitted request goes. */
export interface Destination {
  target: ProxyTarget
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/** Sends `request` to its destination over one of the target's kept connections and streams the answer back. */
export function relayRequest(request: IncomingMessage, response: ServerResponse, destination: Destination, pools: UpstreamPools): void {
  new Relay(request, response, destination, pools, false).start()
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

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly destination: Destination,
    private readonly pools: UpstreamPools,
    private readonly retried: boolean,
  ) {}

  start(): void {
    const exchange = this.pools.send(this.destination.target, upstreamRequest(this.request, this.destination), this, {fresh: this.retried})
    this.exchange = exchange
    // The client went away: stop the upload and the download with it.
    this.response.once('close', () => this.complete || exchange.abort())
  }

  head({status, statusText, lines}: ResponseHead): void {
    // node:http sends the head with the first write of the body or the end, in one write with it.
    this.response.writeHead(status, statusText, endToEnd(lines))
  }

  headAlone(): void {
    this.response.flushHeaders()
  }

  body(chunk: Buffer): void {
    if (this.response.write(chunk)) return
    const exchange = this.exchange!
    exchange.pause()
    this.response.once('drain', () => exchange.resume())
  }

  end(): void {
    this.complete = true
    this.response.end()
  }

  fail({responded, reused, malformed}: ExchangeFailure): void {
    this.complete = true
    const {request, response, destination} = this
    // After the head, a body cut short cannot be told apart from a whole one except by cutting the client off too.
    if (response.headersSent) response.destroy()
    else if (!responded && reused && !this.retried && !response.destroyed && mayRepeat(request)) new Relay(request, response, destination, this.pools, true).start()
    else answer(response, (malformed ? unreadableAnswer : nothingAnswers)(targetName(destination.target)))
  }
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
export function relayUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, destination: Destination, track: (socket: Duplex) => void): void {
  const headers = upstreamRequestHeaders(request, {upgrade: true, keepAuthorization: destination.keepAuthorization})
  const upstream = upgradeRequestTo(destination.target, request, headers)
  let answered = false
  upstream.on('upgrade', (upstreamResponse, upstreamSocket, upstreamHead) => {
    answered = true
    track(upstreamSocket)
    socket.write(rawResponseHead(101, upstreamResponse.statusMessage, switchingProtocolsHeaders(upstreamResponse)))
    socket.write(upstreamHead)
    upstreamSocket.write(head)
    splice(socket, upstreamSocket)
  })
  upstream.on('response', (upstreamResponse) => {
    // The upstream declined to upgrade: pass its answer on, delimited by closing the connection.
    answered = true
    socket.write(rawResponseHead(upstreamResponse.statusCode!, upstreamResponse.statusMessage, [...endToEnd(upstreamResponse.rawHeaders), 'connection', 'close']))
    pipeline(upstreamResponse, socket, () => socket.destroy())
  })
  upstream.on('error', () => (answered ? socket.destroy() : answerOnSocket(socket, nothingAnswers(targetName(destination.target)))))
  socket.on('close', () => upstream.destroy())
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
