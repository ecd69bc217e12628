import {request} from 'node:http'
import type {TestHome} from './cli.js'
import type {HttpReply} from './http.js'
import {within} from './wait.js'

export interface Inspector {
  url: string
  port: number
}

/** `tunnelctl inspect --json --no-open`: the URL with its one-time token, and the port. */
export async function openInspector(t: TestHome): Promise<Inspector> {
  const {exitCode, body, stderr} = await t.json(['inspect', '--no-open'])
  if (exitCode !== 0) throw new Error(`tunnelctl inspect failed (${exitCode}): ${JSON.stringify(body)} ${stderr}`)
  return body as Inspector
}

export interface Ask {
  method?: string
  path?: string
  /** The Host header; 127.0.0.1:<port> unless given. */
  host?: string
  headers?: Record<string, string>
  body?: string | Buffer
}

/** The one-time token in an inspector URL. */
export function tokenOf(inspector: Inspector): string {
  return new URL(inspector.url).searchParams.get('token')!
}

/** The path and query of the URL, token and all, as a browser sends it. */
export function entrance(inspector: Inspector): string {
  const {pathname, search} = new URL(inspector.url)
  return pathname + search
}

/** One request to the inspector at 127.0.0.1:<port>, exactly as given. */
export function ask(port: number, {method = 'GET', path = '/', host = `127.0.0.1:${port}`, headers = {}, body}: Ask = {}): Promise<HttpReply> {
  const reply = new Promise<HttpReply>((resolve, reject) => {
    const outgoing = request({host: '127.0.0.1', port, method, path, headers: {host, ...headers}, agent: false}, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (text += chunk))
      response.on('end', () => resolve({status: response.statusCode ?? 0, headers: response.headers, body: text}))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
  return within(`the inspector to answer ${method} ${path}`, reply)
}

/** Comes in through the URL, as a browser does: the Cookie header that carries the session from then on. */
export async function logIn({url, port}: Inspector): Promise<string> {
  const swapped = await ask(port, {path: entrance({url, port})})
  const cookie = swapped.headers['set-cookie']?.[0]
  if (swapped.status !== 303 || !cookie) throw new Error(`the inspector URL was not swapped for a cookie: HTTP ${swapped.status}`)
  return cookie.split(';')[0]
}
