import {chmod, rm} from 'node:fs/promises'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {connect} from 'node:net'
import {badInput, TunnelctlError} from '../errors.js'
import {acquireLock} from '../lock-file.js'
import {type ErrorBody, VERSION_HEADER} from '../protocol/wire.js'

export interface RouteRequest {
  params: string[]
  query: URLSearchParams
  body: unknown
  request: IncomingMessage
  response: ServerResponse
}

/** A JSON reply, or 'streamed' when the handler writes the response itself. */
export type RouteResult = {status: number; body: unknown} | 'streamed'

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Anchored; capture groups become params. */
  path: RegExp
  /** Routes that must keep working across versions, so that an old supervisor can be asked and stopped. */
  anyVersion?: boolean
  handle(request: RouteRequest): Promise<RouteResult> | RouteResult
}

const MAX_BODY_BYTES = 64 * 1024
const SOCKET_LOCK_WAIT_MS = 10_000

/** Another supervisor answers on the socket: this one has nothing to do. */
export class AlreadyRunning extends Error {}

/**
 * The supervisor's HTTP server on its unix socket. It stamps every reply with its version, refuses
 * requests a browser could have sent (Origin or Referer), and answers errors as {error: {code, message}}.
 */
export class ControlServer {
  private readonly server: Server
  private openConnections = 0
  private lastActivity = Date.now()

  constructor(
    private readonly routes: Route[],
    private readonly version: string,
  ) {
    // A client that never finishes its request is cut off after these, checked every second (Node's
    // default of 30 s between checks would let slow clients hold connections much longer).
    this.server = createServer({headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000}, (request, response) =>
      this.dispatch(request, response),
    )
    this.server.on('connection', (socket) => {
      this.openConnections++
      socket.once('close', () => {
        this.openConnections--
        this.lastActivity = Date.now()
      })
    })
  }

  /**
   * Listens on `socket`, owner-only, replacing a stale socket file; throws AlreadyRunning when another
   * supervisor answers there. Under the socket lock: checking that a socket is stale and then deleting
   * it, without the lock, lets a second supervisor delete the socket the first has just bound, and run
   * on unreachable.
   */
  async listen(socket: string, socketLock: string): Promise<void> {
    const release = await acquireLock(socketLock, SOCKET_LOCK_WAIT_MS)
    if (!release) throw new Error(`${socketLock} stayed taken for ${SOCKET_LOCK_WAIT_MS / 1000}s; see \`tunnelctl doctor\``)
    try {
      await this.listenOn(socket)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
      if (await answers(socket)) throw new AlreadyRunning(`another supervisor already answers on ${socket}`)
      await rm(socket, {force: true})
      await this.listenOn(socket)
    } finally {
      await release()
    }

    await chmod(socket, 0o600)
  }

  /** Whether it got as far as listening: until then, the socket file is not its own. */
  get listening(): boolean {
    return this.server.listening
  }

  /** Stops taking connections; the open ones may finish their request for `graceMs`, and are then cut. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve))
    this.server.closeIdleConnections()
    const forced = setTimeout(() => this.server.closeAllConnections(), graceMs)
    await closed
    clearTimeout(forced)
  }

  private listenOn(socket: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(socket, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** Milliseconds since the last connection closed, or 0 while any is open (an `events --follow` holds one). */
  idleForMs(): number {
    return this.openConnections > 0 ? 0 : Date.now() - this.lastActivity
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader(VERSION_HEADER, this.version)
    try {
      if (request.headers.origin !== undefined || request.headers.referer !== undefined) {
        reply(response, 403, errorBody('BAD_INPUT', 'Requests carrying Origin or Referer are refused: browsers may not drive the supervisor.'))
        request.resume()
        return
      }

      const url = new URL(request.url ?? '/', 'http://tunnelctl')
      const candidates = this.routes.map((route) => ({route, match: route.path.exec(url.pathname)})).filter((c) => c.match)
      if (candidates.length === 0) throw new TunnelctlError('NOT_FOUND', `No such endpoint: ${url.pathname}.`)
      const found = candidates.find((c) => c.route.method === request.method)
      if (!found) {
        response.setHeader('allow', candidates.map((c) => c.route.method).join(', '))
        reply(response, 405, errorBody('BAD_INPUT', `${request.method} is not allowed on ${url.pathname}.`))
        request.resume()
        return
      }

      const clientVersion = request.headers[VERSION_HEADER]
      if (!found.route.anyVersion && typeof clientVersion === 'string' && clientVersion !== this.version) {
        throw new TunnelctlError(
          'VERSION_MISMATCH',
          `This supervisor is tunnelctl ${this.version} and the client is ${clientVersion}. Run \`tunnelctl supervisor stop\`, then retry.`,
        )
      }

      const body = await readJsonBody(request)
      const result = await found.route.handle({params: found.match!.slice(1), query: url.searchParams, body, request, response})
      if (result !== 'streamed') reply(response, result.status, result.body)
    } catch (error) {
      if (response.headersSent) {
        response.destroy()
        return
      }

      if (error instanceof TunnelctlError) {
        // The rest of an oversized body is not read: the connection cannot carry another request.
        if (error.code === 'TOO_LARGE') response.setHeader('connection', 'close')
        reply(response, error.httpStatus, errorBody(error.code, error.message))
        return
      }

      console.error('request failed:', error)
      reply(response, 500, errorBody('INTERNAL', `Internal error: ${(error as Error).message}. See \`tunnelctl supervisor logs\`.`))
    }
  }
}

function errorBody(code: ErrorBody['error']['code'], message: string): ErrorBody {
  return {error: {code, message}}
}

/** A JSON answer; the inspector's API answers the same way. */
export function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  response.end(text)
}

/** The request's JSON body, undefined when it has none; the inspector's API reads its own the same way, with a limit of its own. */
export async function readJsonBody(request: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new TunnelctlError('TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`)

    chunks.push(chunk as Buffer)
  }

  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw badInput('The request body is not valid JSON.')
  }
}

/** Whether something accepts connections on the socket; a file with nothing behind it is stale. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}
