import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {type AddressInfo, createServer as createListener, type Server as Listener} from 'node:net'
import type {Duplex} from 'node:stream'
import {SETTINGS} from '../../config/settings.js'
import {TunnelctlError} from '../../errors.js'
import {describeSource, type RequestProtocol, type RequestSource, sameSource} from '../../protocol/requests.js'
import type {VisitorHeader} from '../../providers/provider.js'
import type {RequestLog} from '../inspect/request-log.js'
import type {Recording} from '../inspect/recording.js'
import {BasicAuthGate, type GateVerdict} from './basic-auth.js'
import {FailedLogins} from './failed-logins.js'
import {firstHeader, hasBody, linesNamed} from './forwarding.js'
import {type PasswordChecker, PasswordChecks} from './password-checks.js'
import {
  answer,
  answerOnSocket,
  NO_ENDPOINT,
  NOT_A_FORWARD_PROXY,
  type PlainAnswer,
  TOO_MANY_CHECKS,
  tooManyFailedLogins,
  tooManyFailedLoginsHere,
  TWO_HOSTS,
  UNAUTHORIZED,
} from './plain-answers.js'
import {type Destination, relayRequest, relayUpgrade} from './relay.js'
import {replayThrough} from './replay.js'
import type {ProxyTarget} from './upstream.js'
import {UpstreamPools} from './upstream-pool.js'
import {visitorAddress} from './visitor-address.js'

export type {ProxyTarget} from './upstream.js'

export interface ProxyRoute {
  target: ProxyTarget
  /** Whose traffic it carries; a host belongs to one source at a time. */
  source: RequestSource
  /** bcrypt hash of the password for user `tunnelctl`; no auth when absent. */
  authHash?: string
}

export interface ReverseProxyOptions {
  /**
   * Checks passwords against bcrypt hashes; by default worker threads that run the file this
   * process was started with, the supervisor's entry. Tests count checks through it.
   */
  passwordChecks?: PasswordChecker
  /** How long an app may take to start its response, in ms; 0 for ever. Defaults to proxy.responseTimeout's default. */
  responseTimeoutMs?: number
  /** Where every request of a route is recorded; none are without it. */
  requestLog?: RequestLog
}

interface Endpoint {
  destination: Destination
  gate?: BasicAuthGate
  source: RequestSource
}

/** How the proxy treats the connections that came in one way; by default, those made to its own port. */
export interface Entrance {
  /** The header that names the visitor: see visitorAddress. Without it, the connection's address does. */
  visitorHeader?: VisitorHeader
  /** Routes every request to this host's endpoint, whatever Host it names: a local endpoint's own listener. */
  host?: string
  /** The supervisor's own connection, replaying a recorded request through its source's route: no Host routes it and no password is asked. */
  replay?: ReplayEntrance
}

/** A connection as the proxy knows it: how it came in, and its address once read. */
interface Arrival {
  entrance: Entrance
  /** The connection's remote address, read once: Node's getter goes through several calls each time it is read. */
  address?: string
}

export interface ReplayEntrance {
  /** The id of the request replayed. */
  of: string
  source: RequestSource
  /** Given the new request's recording, when it is recorded. */
  recorded(recording: Recording): void
}

/**
 * What node:http's own listener does, for connections accepted elsewhere: half-closed by a client that
 * has sent its request, they stay open for the answer, and small writes are not held back.
 */
const AS_HTTP_SERVER_LISTENS = {allowHalfOpen: true, noDelay: true} as const

/** Enough for any honest client to send its request line and headers; a client that sits on an open connection is cut off. */
const HEADERS_TIMEOUT_MS = 10_000
/** Node looks for clients past their headers timeout only this often (30 s by default), so it sets how late they are cut off. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000

/**
 * The one HTTP server every provider publishes. It routes by Host (and port) to an endpoint's local
 * target, checks Basic auth where the endpoint has it, and streams bodies and WebSocket upgrades both
 * ways. It only ever connects to the targets of its routes: never an open proxy.
 *
 * Besides its own port it has a listener for each header a provider vouches for, so that it believes
 * the header only from that provider's process, and takes connections a local endpoint hands over.
 */
export class ReverseProxy {
  private readonly server: Server
  private readonly endpoints = new Map<string, Endpoint>()
  private readonly arrivals = new WeakMap<Duplex, Arrival>()
  private readonly vouched = new Map<VisitorHeader, {listener: Listener; port: number}>()
  private readonly sockets = new Set<Duplex>()
  private readonly passwordChecks: PasswordChecker
  /** One table for every endpoint's gate, so that one cap bounds them all; its keys name the endpoint. */
  private readonly failedLogins = new FailedLogins()
  private readonly pools: UpstreamPools
  private readonly requestLog: RequestLog | undefined
  private listeningPort = 0

  constructor(options: ReverseProxyOptions = {}) {
    this.requestLog = options.requestLog
    this.requestLog?.replayThrough((send) => replayThrough((connection, entrance) => this.accept(connection, entrance), send))
    this.passwordChecks = options.passwordChecks ?? new PasswordChecks(process.argv[1])
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

  /**
   * Listens on 127.0.0.1:<random port>; resolves with the port. Without a header, that is the proxy's
   * own port, where the visitor is the connection's address; with one, a listener where that header
   * names the visitor, for the provider that sets it.
   */
  async listen(visitorHeader?: VisitorHeader): Promise<number> {
    if (!visitorHeader) {
      this.listeningPort = await listenOnLoopback(this.server)
      return this.listeningPort
    }

    const listener = createListener(AS_HTTP_SERVER_LISTENS, (socket) => this.accept(socket, {visitorHeader}))
    const port = await listenOnLoopback(listener)
    this.vouched.set(visitorHeader, {listener, port})
    return port
  }

  get port(): number {
    return this.listeningPort
  }

  /** The port of the listener where `visitorHeader` names the visitor, or of the proxy's own without one; 0 before it listens. */
  portFor(visitorHeader?: VisitorHeader): number {
    return visitorHeader ? (this.vouched.get(visitorHeader)?.port ?? 0) : this.listeningPort
  }

  /** How long an app may take to start its response, in ms; 0 for ever. Requests already sent keep theirs. */
  set responseTimeoutMs(ms: number) {
    this.pools.responseTimeoutMs = ms
  }

  /** Serves a connection accepted elsewhere as if it had been made to the proxy, so the visitor's own address is seen; see Entrance for the rest. */
  accept(socket: Duplex, entrance: Entrance = {}): void {
    this.arrivals.set(socket, {entrance})
    this.server.emit('connection', socket)
  }

  /** How a connection came in: one made to the proxy's own port was not handed to accept(). */
  private arrivalOf(socket: Duplex): Arrival {
    let arrival = this.arrivals.get(socket)
    if (!arrival) this.arrivals.set(socket, (arrival = {entrance: {}}))
    return arrival
  }

  /** Who sent `request` (see visitorAddress); the connection's address is read once per connection. */
  private visitorOf(request: IncomingMessage, arrival: Arrival): string {
    const {visitorHeader} = arrival.entrance
    return visitorHeader ? visitorAddress(request, visitorHeader) : (arrival.address ??= visitorAddress(request))
  }

  /**
   * Adds or replaces the route for a host (case-insensitive, with its port unless 80 or 443). Replacing
   * with a different authHash (or none) forgets every credential verified for that host. Only the
   * route's own source may replace it: a host another tunnel or endpoint holds is refused (CONFLICT),
   * so that no one's visitors end up at someone else's port.
   */
  setRoute(host: string, route: ProxyRoute): void {
    const key = hostKey(host)
    const previous = this.endpoints.get(key)
    if (previous && !sameSource(previous.source, route.source)) {
      throw new TunnelctlError('CONFLICT', `The host ${key} already carries the traffic of ${describeSource(previous.source)}.`)
    }

    let gate: BasicAuthGate | undefined
    if (route.authHash !== undefined) gate = previous?.gate?.hash === route.authHash ? previous.gate : new BasicAuthGate(route.authHash, this.passwordChecks, this.failedLogins)
    this.endpoints.set(key, {destination: {target: route.target, keepAuthorization: !gate}, source: route.source, gate})
  }

  removeRoute(host: string): void {
    this.endpoints.delete(hostKey(host))
  }

  /** Stops listening and destroys every connection, upgraded and pooled ones included, so it never waits on a client; ends the password workers. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const {listener} of this.vouched.values()) listener.close()
    for (const socket of this.sockets) socket.destroy()
    this.pools.close()
    return Promise.all([closed, this.passwordChecks.close()]).then(() => {})
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /** The endpoint a request is for, by its Host, its entrance's host, or the source it replays; or what to answer instead. */
  private route(request: IncomingMessage, entrance: Entrance): Endpoint | PlainAnswer {
    // Only origin-form targets: an absolute URI or `OPTIONS *` asks for something other than our endpoints.
    if (!request.url?.startsWith('/')) return NOT_A_FORWARD_PROXY
    // Which one to route by would be a guess, and the upstream might take the other (RFC 9112 3.2).
    if (linesNamed(request.rawHeaders, 'host').length > 2) return TWO_HOSTS
    if (entrance.replay) return this.endpointOf(entrance.replay.source) ?? NO_ENDPOINT

    const hostHeader = entrance.host ?? firstHeader(request.rawHeaders, 'host')
    const endpoint = hostHeader === undefined ? undefined : this.endpoints.get(hostKey(hostHeader))
    return endpoint ?? NO_ENDPOINT
  }

  private endpointOf(source: RequestSource): Endpoint | undefined {
    for (const endpoint of this.endpoints.values()) if (sameSource(endpoint.source, source)) return endpoint
    return undefined
  }

  /**
   * Whether a request may reach its endpoint, or what to answer instead. Connects to nothing. A
   * promise only while bcrypt runs: see BasicAuthGate.check.
   */
  private admit(request: IncomingMessage, endpoint: Endpoint, arrival: Arrival): Admission | Promise<Admission> {
    const {entrance} = arrival
    if (!endpoint.gate || entrance.replay) return endpoint
    const host = hostKey(entrance.host ?? firstHeader(request.rawHeaders, 'host')!)
    const verdict = endpoint.gate.check(firstHeader(request.rawHeaders, 'authorization'), () => `${host} ${this.visitorOf(request, arrival)}`)
    return verdict instanceof Promise ? verdict.then((settled) => admission(endpoint, settled)) : admission(endpoint, verdict)
  }

  /** Starts recording a request its endpoint is known for, unless nothing is recorded. */
  private record(request: IncomingMessage, endpoint: Endpoint, arrival: Arrival, protocol: RequestProtocol): Recording | undefined {
    if (!this.requestLog?.recording) return undefined
    const {replay} = arrival.entrance
    const recording = this.requestLog.record({
      source: endpoint.source,
      method: request.method!,
      path: request.url!,
      visitor: replay ? 'replay' : this.visitorOf(request, arrival),
      protocol,
      headerLines: request.rawHeaders,
      replayOf: replay?.of,
    })
    replay?.recorded(recording)
    return recording
  }

  private forward(request: IncomingMessage, response: ServerResponse): void {
    const arrival = this.arrivalOf(request.socket)
    const endpoint = this.route(request, arrival.entrance)
    if ('status' in endpoint) return answer(response, endpoint)
    const recording = this.record(request, endpoint, arrival, 'http')
    const admitted = this.admit(request, endpoint, arrival)
    if (admitted instanceof Promise) void admitted.then((settled) => this.pass(request, response, settled, recording))
    else this.pass(request, response, admitted, recording)
  }

  private pass(request: IncomingMessage, response: ServerResponse, admitted: Admission, recording: Recording | undefined): void {
    // Gone while its password was checked: its response closed before anyone listened.
    if (request.socket.destroyed) return recording?.end(null)
    if ('status' in admitted) {
      // A refused request's body is recorded too, as it is read and discarded: replaying it is how its owner lets it through.
      if (recording && hasBody(request.rawHeaders)) recording.tapRequestBody(request)
      recording?.endWith(response)
      return answer(response, admitted)
    }

    // The relay records the request's body as it sends it, and completes the recording as the response closes.
    relayRequest(request, response, admitted.destination, this.pools, recording)
  }

  private async forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const arrival = this.arrivalOf(request.socket)
    const endpoint = this.route(request, arrival.entrance)
    if ('status' in endpoint) return answerOnSocket(socket, endpoint)
    const recording = this.record(request, endpoint, arrival, 'websocket')
    const admitted = await this.admit(request, endpoint, arrival)
    if ('status' in admitted) {
      recording?.end(admitted.status)
      return answerOnSocket(socket, admitted)
    }

    if (socket.destroyed) return recording?.end(null)
    relayUpgrade(request, socket, head, admitted.destination, (upstreamSocket) => this.track(upstreamSocket), recording)
  }
}

type Admission = Endpoint | PlainAnswer

function admission(endpoint: Endpoint, verdict: GateVerdict): Admission {
  if (verdict.kind === 'unauthorized') return UNAUTHORIZED
  if (verdict.kind === 'busy') return TOO_MANY_CHECKS
  if (verdict.kind === 'throttled') return verdict.who === 'visitor' ? tooManyFailedLogins(verdict.retryAfter) : tooManyFailedLoginsHere(verdict.retryAfter)
  return endpoint
}

/**
 * The route key of a Host header or route name: lower case, no trailing dot, IPv6 in brackets, and
 * its port unless that is empty, 80 or 443. The proxy never sees the visitor's scheme (the provider
 * ends TLS), so both default ports stand for none. A bare IPv6 address is put in brackets; so is
 * anything else that is no host and port (`name:https`), where it matches no route.
 */
function hostKey(host: string): string {
  const text = host.trim().toLowerCase()
  const [, name, port] = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(text) ?? ['', `[${text}]`]
  const bare = name.replace(/\.$/, '')
  return port === undefined || port === '' || port === '80' || port === '443' ? bare : `${bare}:${port}`
}

function listenOnLoopback(server: Server | Listener): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}
