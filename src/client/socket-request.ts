import {request} from 'node:http'
import {TunnelctlError} from '../errors.js'
import {VERSION_HEADER} from '../protocol.js'
import {VERSION} from '../version.js'

/** Nothing is listening on the socket (no file, or a stale one): a supervisor may be spawned. */
export class NotListening extends TunnelctlError {
  constructor(socket: string) {
    super('SUPERVISOR_UNAVAILABLE', `The supervisor is not running (nothing answers on ${socket}). Run the command again to start one.`)
  }
}

export interface JsonReply {
  status: number
  body: unknown
}

/** One request to the supervisor. Never retried here: whether that is safe is the caller's call. */
export function requestJson(socket: string, method: string, path: string, body?: unknown): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        agent: false,
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
            resolve({status: res.statusCode ?? 0, body: raw ? JSON.parse(raw) : undefined})
          } catch {
            reject(new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor answered ${method} ${path} with something that is not JSON.`))
          }
        })
      },
    )
    req.on('error', (error) => reject(connectionError(socket, error)))
    req.end(text)
  })
}

/** A streaming GET whose reply is NDJSON; resolves when the supervisor ends the stream. */
export function requestLines(socket: string, path: string, onLine: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: socket, path, agent: false, headers: {[VERSION_HEADER]: VERSION}}, (res) => {
      let pending = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        pending += chunk
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) if (line) onLine(line)
      })
      res.on('end', () => resolve(res.statusCode ?? 0))
      // The supervisor going away ends a follow; that is not an error for the follower.
      res.on('error', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', (error) => reject(connectionError(socket, error)))
    req.end()
  })
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
