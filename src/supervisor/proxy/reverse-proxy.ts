import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import bcrypt from 'bcryptjs'
import {SETTINGS} from '../../config/settings.js'
import {BasicAuthGate, type GateVerdict, type VerifyPassword} from './basic-auth.js'
import {FailedLogins} from './failed-logins.js'
import {firstHeader, linesNamed} from './forwarding.js'
import {answer, answerOnSocket, NO_ENDPOINT, NOT_A_FORWARD_PROXY, type PlainAnswer, tooManyFailedLogins, TWO_HOSTS, UNAUTHORIZED} from './plain-answers.js'
import {type Destination, relayRequest, relayUpgrade} from './relay.js'
import type {ProxyTarget} from './upstream.js'
import {UpstreamPools} from './upstream-pool.js'
import {visitorAddress} from './visitor-address.js'

export type {ProxyTarget} from './upstream.js'

export interface ProxyRoute {
  target: ProxyTarget
  /** bcrypt hash of the password for user `tunnelctl`; no auth when absent. */
  authHash?: string
}

export interface ReverseProxyOptions {
  /** Checks a password against a bcrypt hash; defaults to bcryptjs.compare. Tests count calls through it. */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>
  /** How long an app may take to start its response, in ms; 0 for ever. Defaults to proxy.responseTimeout's default. */
  responseTimeoutMs?: number
}

interface Endpoint {
  destination: Destination
  gate?: BasicAuthGate
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
  private readonly pools: UpstreamPools
  private listeningPort = 0

  constructor(options: ReverseProxyOptions = {}) {
    this.verifyPassword = options.verifyPassword ?? ((password, hash) => bcrypt.compare(password, hash))
    this.pools = new UpstreamPools(options.responseTimeoutMs ?? SETTINGS['proxy.responseTimeout'].default * 1000)
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
      (request, response) => this.forward(request, response),
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

  /** How long an app may take to start its response, in ms; 0 for ever. Requests already sent keep theirs. */
  set responseTimeoutMs(ms: number) {
    this.pools.responseTimeoutMs = ms
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
    this.endpoints.set(key, {destination: {target: route.target, keepAuthorization: !gate}, gate})
  }

  removeRoute(host: string): void {
    this.endpoints.delete(hostKey(host))
  }

  /** Stops listening and destroys every connection, upgraded and pooled ones included, so it never waits on a client. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const socket of this.sockets) socket.destroy()
      this.pools.close()
    })
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /**
   * The endpoint a request may reach, or what to answer instead. Connects to nothing. A promise only
   * while bcrypt runs: see BasicAuthGate.check.
   */
  private admit(request: IncomingMessage): Admission | Promise<Admission> {
    // Only origin-form targets: an absolute URI or `OPTIONS *` asks for something other than our endpoints.
    if (!request.url?.startsWith('/')) return NOT_A_FORWARD_PROXY
    // Which one to route by would be a guess, and the upstream might take the other (RFC 9112 3.2).
    if (linesNamed(request.rawHeaders, 'host').length > 2) return TWO_HOSTS

    const hostHeader = firstHeader(request.rawHeaders, 'host')
    const host = hostHeader === undefined ? undefined : hostKey(hostHeader)
    const endpoint = host === undefined ? undefined : this.endpoints.get(host)
    if (!endpoint) return NO_ENDPOINT
    if (!endpoint.gate) return endpoint

    const verdict = endpoint.gate.check(firstHeader(request.rawHeaders, 'authorization'), () => `${host} ${visitorAddress(request)}`)
    return verdict instanceof Promise ? verdict.then((settled) => admission(endpoint, settled)) : admission(endpoint, verdict)
  }

  private forward(request: IncomingMessage, response: ServerResponse): void {
    const admitted = this.admit(request)
    if (admitted instanceof Promise) void admitted.then((settled) => this.pass(request, response, settled))
    else this.pass(request, response, admitted)
  }

  private pass(request: IncomingMessage, response: ServerResponse, admitted: Admission): void {
    if ('status' in admitted) return answer(response, admitted)
    if (request.socket.destroyed) return
    relayRequest(request, response, admitted.destination, this.pools)
  }

  private async forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const admitted = await this.admit(request)
    if ('status' in admitted) return answerOnSocket(socket, admitted)
    if (socket.destroyed) return
    relayUpgrade(request, socket, head, admitted.destination, (upstreamSocket) => this.track(upstreamSocket))
  }
}

type Admission = Endpoint | PlainAnswer

function admission(endpoint: Endpoint, verdict: GateVerdict): Admission {
  if (verdict.kind === 'unauthorized') return UNAUTHORIZED
  if (verdict.kind === 'throttled') return tooManyFailedLogins(verdict.retryAfter)
  return endpoint
}

/** The route key of a Host header or route name: lower case, no port, no trailing dot, IPv6 in brackets. */
function hostKey(host: string): string {
  let name = host.trim().toLowerCase()
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1)
  else if (name.split(':').length > 2) name = `[${name}]`
  else name = name.replace(/:\d*$/, '')
  return name.replace(/\.$/, '')
}
