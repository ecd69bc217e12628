import type {IncomingMessage, ServerResponse} from 'node:http'
import {type Duplex, pipeline} from 'node:stream'
import type {Dispatcher} from 'undici'
import {endToEnd, hasBody, rawResponseHead, switchingProtocolsHeaders, upstreamRequestHeaders} from './forwarding.js'
import {answer, answerOnSocket, nothingAnswers} from './plain-answers.js'
import {type ProxyTarget, targetName, upgradeRequestTo, type UpstreamPools} from './upstream.js'

/** Where an admitted request goes. */
export interface Destination {
  target: ProxyTarget
  /** False when the proxy checked the credential itself: the upstream never sees the password. */
  keepAuthorization: boolean
}

/**
 * Sends `request` to its destination over one of the target's pooled connections and streams the
 * answer back. A connection that fails before any answer (the upstream closed a pooled one just as
 * it was picked) gets an idempotent request without a body sent again, once. A proxy must not send
 * any other again (RFC 9110 9.2.2), and a body is gone with the dead connection anyway: those get
 * the 502.
 */
export async function relayRequest(request: IncomingMessage, response: ServerResponse, destination: Destination, pools: UpstreamPools, retried = false): Promise<void> {
  const headers = upstreamRequestHeaders(request, {upgrade: false, keepAuthorization: destination.keepAuthorization})

  let abort: ((error?: Error) => void) | undefined
  let resumeBody = () => {}
  let sentBody = false
  let complete = false
  // The client went away: stop the upload and the download with it.
  response.once('close', () => complete || abort?.())
  // Sent again, it goes on a connection of its own, which is not kept: it might be the next to close.
  const upstream = retried ? await pools.oneOff(destination.target) : await pools.for(destination.target)
  const done = () => retried && void upstream.close()
  upstream.dispatch(
    {method: request.method as Dispatcher.HttpMethod, path: request.url!, headers, body: hasBody(request.rawHeaders) ? request : null},
    {
      onConnect(abortRequest) {
        abort = abortRequest
      },
      onHeaders(statusCode, rawHeaders, resume, statusText) {
        if (statusCode < 200) return true
        resumeBody = resume
        response.writeHead(statusCode, statusText, endToEnd(rawHeaders.map((line) => line.toString('latin1'))))
        // The head goes out in one write with the body that came with it, which undici hands over
        // before this runs. Event streams and long polls may send theirs long before any body.
        queueMicrotask(() => sentBody || response.flushHeaders())
        return true
      },
      onData(chunk) {
        sentBody = true
        if (response.write(chunk)) return true
        response.once('drain', resumeBody)
        return false
      },
      onComplete() {
        complete = true
        response.end()
        done()
      },
      onError() {
        done()
        // After the head, a body cut short cannot be told apart from a whole one except by cutting the client off too.
        if (response.headersSent) response.destroy()
        else if (!retried && !response.destroyed && mayRepeat(request)) void relayRequest(request, response, destination, pools, true)
        else answer(response, nothingAnswers(targetName(destination.target)))
      },
    },
  )
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
