import {createServer, request, type IncomingHttpHeaders, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface HttpReply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A GET to 127.0.0.1:<port> as a visitor of `host` would send it, with Basic credentials when given. */
export function visit(port: number, host: string, options: {path?: string; password?: string} = {}): Promise<HttpReply> {
  const headers: Record<string, string> = {host}
  if (options.password !== undefined) headers.authorization = `Basic ${Buffer.from(`tunnelctl:${options.password}`).toString('base64')}`
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: options.path ?? '/', headers, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
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
