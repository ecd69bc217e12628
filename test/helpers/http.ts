import {once} from 'node:events'
import {createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type RequestListener, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {within} from './wait.js'

export interface HttpReply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A GET to 127.0.0.1:<port> as a visitor of `host` would send it, with Basic credentials when given. */
export function visit(port: number, host: string, options: {path?: string; password?: string} = {}): Promise<HttpReply> {
  const headers: Record<string, string> = {host}
  if (options.password !== undefined) headers.authorization = `Basic ${Buffer.from(`tunnelctl:${options.password}`).toString('base64')}`
  const reply = new Promise<HttpReply>((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: options.path ?? '/', headers, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
  return within(`an answer from 127.0.0.1:${port} for ${host}${options.path ?? '/'}`, reply)
}

/** The app being exposed: answers every request with `<name>` and the headers it got, as JSON. */
export class App {
  readonly server: Server

  constructor(readonly name: string) {
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({app: name, url: req.url, headers: req.headers}))
    })
  }

  listen(options: {port?: number; path?: string} = {}): Promise<number> {
    return new Promise((resolve) => {
      const done = () => resolve(options.path ? 0 : (this.server.address() as AddressInfo).port)
      if (options.path) this.server.listen(options.path, done)
      else this.server.listen(options.port ?? 0, '127.0.0.1', done)
    })
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A local HTTP server that counts the connections made to it: a proxy that refuses a request must not have opened one. */
export class Upstream {
  readonly server: Server
  connections = 0
  private readonly sockets = new Set<Socket>()

  constructor(handler: RequestListener = (request, response) => response.end(`upstream saw ${request.url}`)) {
    this.server = createServer(handler)
    this.server.on('connection', (socket) => {
      this.connections++
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
  }

  async listen(where: {host: string} | {path: string} = {host: '127.0.0.1'}): Promise<number> {
    this.server.listen('path' in where ? where.path : {port: 0, host: where.host})
    await once(this.server, 'listening')
    return (this.server.address() as AddressInfo).port
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** One request to 127.0.0.1:<port> with exactly the given Host header (none when undefined). */
export function sendWithHost(port: number, host: string | undefined, options: {path?: string; headers?: OutgoingHttpHeaders} = {}): Promise<HttpReply> {
  const reply = new Promise<HttpReply>((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      agent: false,
      setHost: false,
      path: options.path ?? '/',
      headers: {...options.headers, ...(host === undefined ? {} : {host})},
    })
    outgoing.on('response', (response) => {
      readAll(response).then((body) => resolve({status: response.statusCode!, headers: response.headers, body}), reject)
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
  return within(`an answer from 127.0.0.1:${port} for Host ${host}${options.path ?? '/'}`, reply)
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += chunk
  return text
}

/**
 * Writes raw bytes on a connected socket, ends it (unless `end` is false: a server may take the end
 * of the request side for a client gone), and returns everything answered until the connection
 * closes. A reset after the answer (a server that hangs up on unread input) still counts as the end.
 */
export function exchangeRaw(socket: Socket, text: string, {end = true} = {}): Promise<string> {
  const answered = new Promise<string>((resolve) => {
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('error', () => {})
    socket.on('close', () => resolve(answer))
    if (end) socket.end(text)
    else socket.write(text)
  })
  return within(`the server to answer ${JSON.stringify(text.slice(0, 60))} and close`, answered)
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}
