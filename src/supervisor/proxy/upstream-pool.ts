import type {Socket} from 'node:net'
import type {Readable} from 'node:stream'
import type {HeaderLines} from './forwarding.js'
import {type InterimHead, type ResponseHead, ResponseReader, type ResponseSink} from './response-reader.js'
import {connectTo, type ProxyTarget} from './upstream.js'

/**
 * Shorter than any dev server's own keep-alive timeout we know of (gunicorn's 2 s is the shortest),
 * so that the proxy lets an idle connection go before the server does and seldom sends a request
 * down one the server is closing. A server that announces a shorter one (Keep-Alive: timeout=N) gets
 * half of it.
 */
const IDLE_TIMEOUT_MS = 1_000

/**
 * Where every connection to a target reads into (net's onread), shared since reads are handled one
 * at a time and copied out before the next. Node's own reads stop at 64 KiB and give each a new
 * buffer, garbage that piles up until V8 has counted enough of it to collect. Here a large body
 * comes in fewer, larger reads, each goes on in one write, and is copied into the connection's own
 * buffer, used again once the client has taken it; a small read gets a copy of its own size.
 */
const READS = Buffer.allocUnsafe(256 * 1024)
/** Reads from this size up are copied into the connection's own buffer; smaller ones into Node's pool. */
const OWN_BUFFER_FROM = 16 * 1024

export interface UpstreamRequest {
  /** The request line and header lines, ready to write. */
  head: string
  /** What follows the head, chunk-encoded on the way when `chunked`. */
  body?: Readable
  chunked: boolean
  /** A HEAD request, whose response has no body whatever its headers say. */
  bodiless: boolean
}

export interface ExchangeFailure {
  /** Some of the response had arrived. */
  responded: boolean
  /** The connection had served a request before: it may have been closing as this one was sent. */
  reused: boolean
  /** The connection closed or failed; what came was not a response we could read; or no response head came in time. */
  cause: 'closed' | 'unreadable' | 'timed-out'
}

export interface ResponseHandler extends ResponseSink {
  /**
   * Takes part of the body. True when nothing holds on to `chunk` once this returns (the client
   * has all of it): its memory is then used again for the next read. Anything that keeps a chunk
   * (a copy for a recording) must copy it.
   */
  body(chunk: Buffer): boolean
  /** The head came without any of the body, which may follow much later (event streams, long polls): time to send the head on its own. */
  headAlone(): void
  /** The connection failed or the response could not be read; nothing more will come. */
  fail(failure: ExchangeFailure): void
}

/**
 * Keeps connections to the targets open between requests and passes requests on over them: a new
 * connection for every request costs more than all the rest of the proxy's work on it. No cap on
 * connections: a request must never wait behind long polls and event streams, which have no
 * timeouts either.
 *
 * The client is our own, HTTP/1.1 only and without anything a proxy has no use for (redirects,
 * decoding, header objects, interceptors): with undici, the leanest general one, the proxy spent a
 * third more CPU on each request.
 */
export class UpstreamPools {
  private readonly idle = new Map<string, Connection[]>()
  private readonly open = new Set<Connection>()

  /** `responseTimeoutMs`: how long a target may take, once a request is sent, to start its response; 0 for ever. */
  constructor(public responseTimeoutMs: number) {}

  /** `fresh`: on a new connection, closed after this request, for a request sent again. */
  send(target: ProxyTarget, request: UpstreamRequest, handler: ResponseHandler, {fresh = false} = {}): Exchange {
    const key = target.kind === 'unix' ? `unix:${target.path}` : `${target.scheme === 'https' ? 'https:' : ''}${target.port}`
    const connection = (fresh ? undefined : this.takeIdle(key)) ?? this.connect(target, key, !fresh)
    return connection.send(request, handler, this.responseTimeoutMs)
  }

  /** The connection used last, which is the least likely to be timing out; one destroyed leaves its list only at its 'close', a moment later. */
  private takeIdle(key: string): Connection | undefined {
    const idle = this.idle.get(key)
    let connection = idle?.pop()
    while (connection?.socket.destroyed) connection = idle!.pop()
    return connection
  }

  close(): void {
    for (const connection of this.open) connection.destroy()
  }

  private connect(target: ProxyTarget, key: string, keep: boolean): Connection {
    let idle = this.idle.get(key)
    if (!idle) this.idle.set(key, (idle = []))
    const connection = new Connection(target, keep ? idle : undefined, () => this.open.delete(connection))
    this.open.add(connection)
    return connection
  }
}

/** One request and its response on a connection. */
export class Exchange implements ResponseSink {
  /** Set once it has ended, failed or been aborted: nothing more is passed on. */
  finished = false
  private readonly reader: ResponseReader
  private responded = false
  private uploaded: boolean
  private response: ResponseHead | undefined
  /** The head has been handed on, and nothing after it yet. */
  private headOnly = false
  private stopUpload = () => {}
  /** Something still holds on to a part of the bytes last received. */
  held = false

  constructor(
    private readonly connection: Connection,
    private readonly handler: ResponseHandler,
    request: UpstreamRequest,
    private readonly responseTimeoutMs: number,
  ) {
    this.reader = new ResponseReader(this, request.bodiless)
    this.uploaded = request.body === undefined
  }

  /**
   * Reads bytes that arrived together. A head that came without any of the body is sent on at once:
   * event streams and long polls may send theirs much later.
   */
  receive(chunk: Buffer): 'complete' | 'incomplete' | 'unreadable' {
    this.responded = true
    this.held = false
    try {
      this.reader.push(chunk)
    } catch {
      this.fail('unreadable')
      return 'unreadable'
    }

    if (this.reader.done) return 'complete'
    if (this.headOnly) {
      this.headOnly = false
      this.handler.headAlone()
    }

    return 'incomplete'
  }

  /** The upstream closed its side; true when that completed the response. */
  receiveEnd(): boolean {
    try {
      this.reader.close()
      return true
    } catch {
      // Cut short; what had come of it, if anything, was not a whole response.
      this.fail(this.responded ? 'unreadable' : 'closed')
      return false
    }
  }

  /** How long the connection may wait idle for the next request once this exchange is over; undefined when it must close. */
  keepIdleFor(): number | undefined {
    if (!this.response?.keepAlive || !this.uploaded || this.reader.overrun) return undefined
    const timeoutMs = Math.min(IDLE_TIMEOUT_MS, (this.response.idleTimeoutMs ?? Number.POSITIVE_INFINITY) / 2)
    return timeoutMs >= 1 ? timeoutMs : undefined
  }

  interim(head: InterimHead): void {
    if (!this.finished) this.handler.interim(head)
  }

  head(head: ResponseHead): void {
    if (this.finished) return
    this.response = head
    this.headOnly = true
    // Long polls and event streams may take any time between parts of the body.
    if (this.responseTimeoutMs > 0) this.connection.socket.setTimeout(0)
    this.handler.head(head)
  }

  // The handler may have aborted the exchange on its head: nothing more goes to it then.
  body(chunk: Buffer): void {
    if (this.finished) return
    this.headOnly = false
    if (!this.handler.body(chunk)) this.held = true
  }

  end(trailers: HeaderLines): void {
    if (this.finished) return
    this.headOnly = false
    this.finished = true
    this.stopUpload()
    this.handler.end(trailers)
  }

  fail(cause: ExchangeFailure['cause'] = 'closed'): void {
    if (this.finished) return
    this.finished = true
    this.stopUpload()
    this.handler.fail({responded: this.responded, reused: this.connection.served > 0, cause})
  }

  /** No response head came within the time given once the request was sent. */
  timeOut(): void {
    this.fail('timed-out')
  }

  /** Starts the clock for the response head once the upload is over, unless the head came first. */
  private awaitHead(): void {
    if (this.responseTimeoutMs > 0 && !this.response) this.connection.socket.setTimeout(this.responseTimeoutMs)
  }

  /** The client went away: nothing more is sent or passed on, and the connection goes with it. */
  abort(): void {
    if (this.finished) return
    this.finished = true
    this.stopUpload()
    this.connection.destroy()
  }

  /** Stops reading the response until `resume`, while the client catches up. */
  pause(): void {
    if (!this.finished) this.connection.socket.pause()
  }

  /** The client has taken everything written to it. */
  resume(): void {
    if (this.finished) return
    this.connection.drained(this)
    this.connection.socket.resume()
  }

  /** Streams the request's body after its head, at the pace the upstream reads it. */
  upload(body: Readable, chunked: boolean): void {
    const {socket} = this.connection
    const onData = (chunk: Buffer) => {
      // An empty chunk would read as the last one.
      if (chunk.length === 0) return
      socket.cork()
      if (chunked) socket.write(`${chunk.length.toString(16)}\r\n`)
      let flowing = socket.write(chunk)
      if (chunked) flowing = socket.write('\r\n')
      socket.uncork()
      // A write says to wait after any chunk larger than the high-water mark; wait only when bytes stay queued.
      if (!flowing && socket.writableLength >= socket.writableHighWaterMark) body.pause()
    }

    const onDrain = () => body.resume()
    const onEnd = () => {
      if (chunked) socket.write('0\r\n\r\n')
      this.uploaded = true
      this.stopUpload()
      this.awaitHead()
    }

    body.on('data', onData)
    body.once('end', onEnd)
    socket.on('drain', onDrain)
    this.stopUpload = () => {
      body.off('data', onData)
      body.off('end', onEnd)
      socket.off('drain', onDrain)
    }
  }
}

/** A connection to a target, serving one exchange at a time, and back in its pool's idle list between them. */
class Connection {
  readonly socket: Socket
  private exchange: Exchange | undefined
  /** Where large reads are copied to. */
  private own: Buffer | undefined
  /** The one last left with a client that had not taken all of it: free again once that client has drained. */
  private lent: Buffer | undefined
  /** Requests completed on it. */
  served = 0

  /** `idle`: the pool's list to go back to after a request; none for a connection used once. */
  constructor(
    target: ProxyTarget,
    private readonly idle: Connection[] | undefined,
    onClosed: () => void,
  ) {
    const socket = connectTo(target, {
      buffer: READS,
      callback: (length) => {
        this.read(length)
        // Pausing is the exchange's to do, through the socket.
        return true
      },
    })
    this.socket = socket
    socket.on('end', () => this.readEnd())
    // Every failure ends in 'close', which fails the exchange under way.
    socket.on('error', () => {})
    socket.on('close', () => {
      this.exchange?.fail()
      this.exchange = undefined
      if (this.idle?.includes(this)) this.idle.splice(this.idle.indexOf(this), 1)
      onClosed()
    })
    // Idle too long in the pool, or waiting too long for a response head.
    socket.on('timeout', () => {
      this.exchange?.timeOut()
      socket.destroy()
    })
  }

  send(request: UpstreamRequest, handler: ResponseHandler, responseTimeoutMs: number): Exchange {
    // The clock for the response head runs once the request is all sent: an upload may take as long as it needs.
    this.socket.setTimeout(request.body ? 0 : responseTimeoutMs)
    const exchange = new Exchange(this, handler, request, responseTimeoutMs)
    this.exchange = exchange
    // Lent to the last exchange's client, which may not have drained.
    this.lent = undefined
    this.socket.write(request.head, 'latin1')
    if (request.body) exchange.upload(request.body, request.chunked)
    return exchange
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** The client of `exchange` has taken everything written to it, what was lent included. */
  drained(exchange: Exchange): void {
    if (exchange !== this.exchange || !this.lent) return
    this.own = this.lent
    this.lent = undefined
  }

  private read(length: number): void {
    const exchange = this.exchange
    // Bytes nobody asked for: the server is out of step with us, and nothing it sends can be trusted.
    if (!exchange || exchange.finished) return this.destroy()
    let chunk: Buffer
    if (length < OWN_BUFFER_FROM) {
      chunk = Buffer.from(READS.subarray(0, length))
    } else {
      this.own ??= Buffer.allocUnsafeSlow(READS.length)
      READS.copy(this.own, 0, 0, length)
      chunk = this.own.subarray(0, length)
    }

    const outcome = exchange.receive(chunk)
    if (exchange.held && chunk.buffer === this.own?.buffer) {
      this.lent = this.own
      this.own = undefined
    }
    if (outcome === 'unreadable') this.destroy()
    else if (outcome === 'complete') this.settle(exchange)
  }

  private readEnd(): void {
    const exchange = this.exchange
    if (!exchange || exchange.finished) return this.destroy()
    if (exchange.receiveEnd()) this.settle(exchange)
    else this.destroy()
  }

  /** The response is complete: the connection waits for the next request, or closes when it cannot take one. */
  private settle(exchange: Exchange): void {
    this.exchange = undefined
    this.served++
    const idleFor = exchange.keepIdleFor()
    if (!this.idle || idleFor === undefined || this.socket.destroyed) return this.destroy()
    // A last chunk that met a slow client paused the socket, and its exchange, being over, resumes nothing:
    // paused, the connection would never read the next response.
    this.socket.resume()
    this.socket.setTimeout(idleFor)
    this.idle.push(this)
  }
}
