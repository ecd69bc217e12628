import {type ClientRequest, request, type RequestOptions} from 'node:http'
import {createConnection} from 'node:net'
import {TunnelctlError} from '../errors.js'
import {VERSION_HEADER} from '../protocol/wire.js'
import {VERSION} from '../version.js'

/** Nothing is listening on the socket (no file, or a stale one): a supervisor may be spawned. */
export class NotListening extends TunnelctlError {
  constructor(socket: string) {
    super('SUPERVISOR_UNAVAILABLE', `The supervisor is not running (nothing answers on ${socket}). Run the command again to start one.`)
  }
}

/** The supervisor took the request and sent no reply within the deadline: stuck, or far too busy. */
export class NoReply extends TunnelctlError {
  constructor(
    readonly request: string,
    readonly waitedMs: number,
  ) {
    super('SUPERVISOR_UNAVAILABLE', `The supervisor gave no reply to ${request} within ${waitedMs / 1000}s.`)
  }
}

export interface JsonReply {
  status: number
  /** The supervisor's version, which it stamps on every reply; undefined from one that does not. */
  version: string | undefined
  body: unknown
}

/**
 * Every request has a connection of its own, closed after the reply. Made here rather than by an
 * Agent (`agent: false` makes one per request): an Agent works out a TLS server name from the host,
 * and compiles Node's IP address patterns to do it, work a unix socket never needs.
 */
function connection(socket: string): Pick<RequestOptions, 'createConnection'> {
  return {createConnection: () => createConnection(socket)}
}

/**
 * One request to the supervisor, with the whole reply due within `deadlineMs`. Never retried here:
 * whether that is safe is the caller's call.
 */
export function requestJson(socket: string, method: string, path: string, deadlineMs: number, body?: unknown): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        ...connection(socket),
        method,
        path,
        headers: {
          [VERSION_HEADER]: VERSION,
          ...(text === undefined ? {} : {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', (error) => reject(lostConnection(error)))
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8')
          try {
            const version = res.headers[VERSION_HEADER]
            resolve({status: res.statusCode ?? 0, version: typeof version === 'string' ? version : undefined, body: raw ? JSON.parse(raw) : undefined})
          } catch {
            reject(new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor answered ${method} ${path} with something that is not JSON.`))
          }
        })
      },
    )
    req.on('error', (error) => reject(connectionError(socket, error)))
    giveUpAfter(req, deadlineMs, `${method} ${path}`, reject)
    req.end(text)
  })
}

/**
 * A streaming GET whose reply is NDJSON; resolves when the supervisor ends the stream. Only the start
 * of the reply is due within `deadlineMs`: the stream itself may stay quiet for as long as it likes.
 * A line that is not JSON, or that `onLine` throws on, ends the request with that error.
 */
export function requestLines(socket: string, path: string, deadlineMs: number, onLine: (value: unknown) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({...connection(socket), path, headers: {[VERSION_HEADER]: VERSION}}, (res) => {
      clearTimeout(timer)
      let pending = ''
      res.setEncoding('utf8')
      const take = (lines: string[]) => {
        try {
          for (const line of lines) if (line) onLine(parseLine(line, path))
        } catch (error) {
          reject(error)
          req.destroy()
        }
      }

      res.on('data', (chunk: string) => {
        pending += chunk
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        take(lines)
      })
      // A refusal is one JSON document, with no newline after it.
      res.on('end', () => {
        take([pending])
        resolve(res.statusCode ?? 0)
      })
      // The supervisor going away ends a follow; that is not an error for the follower.
      res.on('error', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', (error) => reject(connectionError(socket, error)))
    const timer = giveUpAfter(req, deadlineMs, `GET ${path}`, reject)
    req.end()
  })
}

function parseLine(line: string, path: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    throw new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor streamed a line that is not JSON on GET ${path}.`)
  }
}

/** Ends the request with NoReply once the deadline passes; the timer is cleared when the request closes. */
function giveUpAfter(req: ClientRequest, deadlineMs: number, what: string, reject: (error: Error) => void): NodeJS.Timeout {
  const timer = setTimeout(() => {
    reject(new NoReply(what, deadlineMs))
    req.destroy()
  }, deadlineMs)
  // Never what keeps the command alive: the open request does that.
  timer.unref()
  req.once('close', () => clearTimeout(timer))
  return timer
}

function connectionError(socket: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return new NotListening(socket)
  return lostConnection(error)
}

function lostConnection(error: Error): TunnelctlError {
  return new TunnelctlError(
    'SUPERVISOR_UNAVAILABLE',
    `Lost the connection to the supervisor (${error.message}). See \`tunnelctl supervisor logs\`.`,
  )
}
