import type {Agent, IncomingMessage, ServerResponse} from 'node:http'
import {type Duplex, pipeline} from 'node:stream'
import {endToEnd, hasBody, rawResponseHead, switchingProtocolsHeaders, upstreamRequestHeaders} from './forwarding.js'
import {answer, answerOnSocket, nothingAnswers} from './plain-answers.js'
import {type ProxyTarget, requestTo, targetName} from './upstream.js'

/** Where an admitted request goes. */
export interface Destination {
  target: ProxyTarget
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/**
 * Sends `request` to its destination over one of `agent`'s pooled connections (or, with false, one
 * of its own) and streams the answer back. A pooled connection the upstream closed just as it was
 * picked fails before any answer: an idempotent request without a body is then sent again, once,
 * on a connection of its own. A proxy must not send any other again (RFC 9110 9.2.2), and a body
 * is gone with the dead connection anyway: those get the 502.
 */
export function relayRequest(request: IncomingMessage, response: ServerResponse, destination: Destination, agent: Agent | false): void {
  const headers = upstreamRequestHeaders(request, {upgrade: false, keepAuthorization: destination.keepAuthorization})
  const upstream = requestTo(destination.target, agent, request, headers)
  upstream.on('response', (upstreamResponse) => relayResponse(upstreamResponse, response))
  upstream.on('error', () => {
    if (response.headersSent) response.destroy()
    else if (upstream.reusedSocket && !response.destroyed && mayRepeat(request)) relayRequest(request, response, destination, false)
    else answer(response, nothingAnswers(targetName(destination.target)))
  })
  // The client went away: stop the upload and the download with it.
  response.on('close', () => upstream.destroy())
  if (hasBody(request.rawHeaders)) request.pipe(upstream)
  else upstream.end()
}

function relayResponse(upstreamResponse: IncomingMessage, response: ServerResponse): void {
  response.writeHead(upstreamResponse.statusCode!, upstreamResponse.statusMessage, endToEnd(upstreamResponse.rawHeaders))
  upstreamResponse.pipe(response)
  upstreamResponse.on('close', () => {
    // A body cut short cannot be told apart from a whole one except by cutting the client off too.
    if (!upstreamResponse.complete) response.destroy()
  })
  // The head goes out in one write with the body that came with it, by the time this runs. Event
  // streams and long polls may send theirs long before any body: then it goes on its own.
  queueMicrotask(() => {
    if (!upstreamResponse.readableDidRead && !upstreamResponse.readableEnded) response.flushHeaders()
  })
}

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
  const upstream = requestTo(destination.target, false, request, headers)
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
