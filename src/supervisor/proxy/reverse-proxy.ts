import {type ClientRequest, createServer, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest, type RequestOptions, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, LookupFunction, Socket, TcpNetConnectOpts} from 'node:net'
import {type Duplex, pipeline} from 'node:stream'
import bcrypt from 'bcryptjs'
import {BasicAuthGate, type VerifyPassword} from './basic-auth.js'
import {FailedLogins} from './failed-logins.js'
import {endToEnd, rawResponseHead, switchingProtocolsHeaders, upstreamRequestHeaders} from './forwarding.js'
import {visitorAddress} from './visitor-address.js'

export type ProxyTarget = {kind: 'port'; port: number} | {kind: 'unix'; path: string}

export interface ProxyRoute {
  target: ProxyTarget
  /** bcrypt hash of the password for user `tunnelctl`; no auth when absent. */
  authHash?: string
}

export interface ReverseProxyOptions {
  /** Checks a password against a bcrypt hash; defaults to bcryptjs.compare. Tests count calls through it. */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>
}

interface Endpoint {
  target: ProxyTarget
  gate?: BasicAuthGate
}

/** A short plain-text answer the proxy gives itself instead of the upstream's. */
interface PlainAnswer {
  status: number
  text: string
  headers?: OutgoingHttpHeaders
}

const NOT_A_FORWARD_PROXY: PlainAnswer = {status: 400, text: 'tunnelctl: this proxy only serves its own endpoints and forwards nowhere else\n'}
const NO_ENDPOINT: PlainAnswer = {status: 404, text: 'tunnelctl: nothing is exposed at this host name\n'}
const UNAUTHORIZED: PlainAnswer = {
  status: 401,
  text: 'tunnelctl: this endpoint needs the username tunnelctl and its password\n',
  headers: {'www-authenticate': 'Basic realm="tunnelctl"'},
}

function tooManyFailedLogins(retryAfter: number): PlainAnswer {
  return {
    status: 429,
    text: `tunnelctl: too many wrong passwords from your address; try again in ${retryAfter} s\n`,
    headers: {'retry-after': String(retryAfter)},
  }
}

/** Enough for any honest client to send its request line and headers; a client that sits on an open connection is cut off. */
const HEADERS_TIMEOUT_MS = 10_000
/** Node looks for clients past their headers timeout only this often (30 s by default), so it sets how late they are cut off. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000

/**
 * The one HTTP server every provider publishes. It routes by Host to an endpoint's local target,
 * checks Basic auth where the endpoint has it, and streams bodies and WebSocket upgrades both ways.
 * It only ever connects to the targets of its routes: never an open proxy.
 */
export class ReverseProxy {
  private readonly server: Server
  private readonly endpoints = new Map<string, Endpoint>()
  private readonly sockets = new Set<Duplex>()
  private readonly verifyPassword: VerifyPassword
  /** One table for every endpoint's gate, so that one cap bounds them all; its keys name the endpoint. */
  private readonly failedLogins = new FailedLogins()
  private listeningPort = 0

  constructor(options: ReverseProxyOptions = {}) {
    this.verifyPassword = options.verifyPassword ?? ((password, hash) => bcrypt.compare(password, hash))
    this.server = createServer(
      {
        // Without a Host there is no endpoint: our own 404 says so better than Node's bare 400.
        requireHostHeader: false,
        // Node's default of 5 minutes for the whole request would cut off long streamed uploads. The
        // headers timeout still applies without it, but must be given: by default it follows this one to 0.
        requestTimeout: 0,
        headersTimeout: HEADERS_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      },
      (request, response) => void this.forward(request, response),
    )
    this.server.on('connection', (socket) => this.track(socket))
    this.server.on('upgrade', (request, socket, head) => void this.forwardUpgrade(request, socket, head))
    this.server.on('connect', (_request, socket) => answerOnSocket(socket, NOT_A_FORWARD_PROXY))
  }

  /** Listens on 127.0.0.1:<random port>; resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject)
        this.listeningPort = (this.server.address() as AddressInfo).port
        resolve(this.listeningPort)
      })
    })
  }

  get port(): number {
    return this.listeningPort
  }

  /** Serves a connection accepted elsewhere as if it had been made to the proxy, so the visitor's own address is seen. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket)
  }

  /** Adds or replaces the route for a host (case-insensitive, no port). Replacing with a different authHash (or none) forgets every credential verified for that host. */
  setRoute(host: string, route: ProxyRoute): void {
    const key = hostKey(host)
    const previous = this.endpoints.get(key)?.gate
    let gate: BasicAuthGate | undefined
    if (route.authHash !== undefined) gate = previous?.hash === route.authHash ? previous : new BasicAuthGate(route.authHash, this.verifyPassword, this.failedLogins)
    this.endpoints.set(key, {target: route.target, gate})
  }

  removeRoute(host: string): void {
    this.endpoints.delete(hostKey(host))
  }

  /** Stops listening and destroys every connection, upgraded ones included, so it never waits on a client. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const socket of this.sockets) socket.destroy()
    })
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /** The endpoint a request may reach, or what to answer instead. Connects to nothing. */
  private async admit(request: IncomingMessage): Promise<Endpoint | PlainAnswer> {
    // Only origin-form targets: an absolute URI or `OPTIONS *` asks for something other than our endpoints.
    if (!request.url?.startsWith('/')) return NOT_A_FORWARD_PROXY

    const host = request.headers.host === undefined ? undefined : hostKey(request.headers.host)
    const endpoint = host === undefined ? undefined : this.endpoints.get(host)
    if (!endpoint) return NO_ENDPOINT
    if (!endpoint.gate) return endpoint

    const verdict = await endpoint.gate.check(request.headers.authorization, `${host} ${visitorAddress(request)}`)
    if (verdict.kind === 'unauthorized') return UNAUTHORIZED
    if (verdict.kind === 'throttled') return tooManyFailedLogins(verdict.retryAfter)
    return endpoint
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const admitted = await this.admit(request)
    if ('status' in admitted) return answer(response, admitted)
    if (request.socket.destroyed) return

    const {target} = admitted
    const upstream = requestUpstream(request, admitted, false)
    upstream.on('response', (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode!, upstreamResponse.statusMessage, endToEnd(upstreamResponse.headers))
      // Long polls and event streams may send headers long before any body.
      response.flushHeaders()
      // On failure pipeline destroys the response and so the client's connection: a body cut short
      // cannot be told apart from a whole one any other way.
      pipeline(upstreamResponse, response, () => {})
    })
    upstream.on('error', () => (response.headersSent ? response.destroy() : answer(response, nothingAnswers(target))))
    // The client went away: stop the upload and the download with it.
    response.on('close', () => upstream.destroy())
    request.pipe(upstream)
  }

  private async forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const admitted = await this.admit(request)
    if ('status' in admitted) return answerOnSocket(socket, admitted)
    if (socket.destroyed) return

    const {target} = admitted
    const upstream = requestUpstream(request, admitted, true)
    let answered = false
    upstream.on('upgrade', (upstreamResponse, upstreamSocket, upstreamHead) => {
      answered = true
      this.track(upstreamSocket)
      socket.write(rawResponseHead(101, upstreamResponse.statusMessage, switchingProtocolsHeaders(upstreamResponse)))
      socket.write(upstreamHead)
      upstreamSocket.write(head)
      splice(socket, upstreamSocket)
    })
    upstream.on('response', (upstreamResponse) => {
      // The upstream declined to upgrade: pass its answer on, delimited by closing the connection.
      answered = true
      const headers = {...endToEnd(upstreamResponse.headers), connection: 'close'}
      socket.write(rawResponseHead(upstreamResponse.statusCode!, upstreamResponse.statusMessage, headers))
      pipeline(upstreamResponse, socket, () => socket.destroy())
    })
    upstream.on('error', () => (answered ? socket.destroy() : answerOnSocket(socket, nothingAnswers(target))))
    socket.on('close', () => upstream.destroy())
    upstream.end()
  }
}

/** The route key of a Host header or route name: lower case, no port, no trailing dot, IPv6 in brackets. */
function hostKey(host: string): string {
  let name = host.trim().toLowerCase()
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1)
  else if (name.split(':').length > 2) name = `[${name}]`
  else name = name.replace(/:\d*$/, '')
  return name.replace(/\.$/, '')
}

/** A dev server may listen on 127.0.0.1 or only on ::1 (vite does): net tries each, IPv4 first. */
const bothLoopbacks: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{address: '127.0.0.1', family: 4}, {address: '::1', family: 6}])
  else callback(null, '127.0.0.1', 4)
}

function connectOptions(target: ProxyTarget): RequestOptions {
  if (target.kind === 'unix') return {socketPath: target.path}
  const tcp: TcpNetConnectOpts = {host: 'localhost', port: target.port, lookup: bothLoopbacks, autoSelectFamily: true}
  return tcp
}

function requestUpstream(request: IncomingMessage, {target, gate}: Endpoint, upgrade: boolean): ClientRequest {
  return httpRequest({
    ...connectOptions(target),
    // Without an agent every request has its own connection: none is reused after the dev server dropped it.
    agent: false,
    method: request.method,
    path: request.url,
    headers: upstreamRequestHeaders(request, {upgrade, keepAuthorization: !gate}),
  })
}

function nothingAnswers(target: ProxyTarget): PlainAnswer {
  const where = target.kind === 'port' ? `localhost:${target.port}` : target.path
  return {status: 502, text: `tunnelctl: nothing answers at ${where}\n`}
}

function plainTextHeaders(text: string): OutgoingHttpHeaders {
  return {'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text)}
}

function answer(response: ServerResponse, {status, text, headers}: PlainAnswer): void {
  response.writeHead(status, {...headers, ...plainTextHeaders(text)})
  response.end(text)
  // Discard whatever body is left, so the connection can carry the next request.
  response.req.resume()
}

function answerOnSocket(socket: Duplex, {status, text, headers}: PlainAnswer): void {
  if (!socket.writable) return
  const head = rawResponseHead(status, undefined, {...headers, ...plainTextHeaders(text), connection: 'close'})
  socket.end(head + text, () => socket.destroy())
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
