import {readFile} from 'node:fs/promises'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {join} from 'node:path'
import {TunnelctlError} from '../../errors.js'
import {INSPECTOR_PAGE_DIR} from '../../inspector-page.js'
import type {InspectorReply} from '../../protocol/inspector.js'
import {InspectorGuard} from './inspector-guard.js'
import {inspectorApi, type InspectedTraffic, type InspectorSources} from './inspector-api.js'

/** The page's files, each with its type; read once, when the inspector starts. */
const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'inspector.css': 'text/css; charset=utf-8',
  'inspector.js': 'text/javascript; charset=utf-8',
  'body-view.js': 'text/javascript; charset=utf-8',
  'curl.js': 'text/javascript; charset=utf-8',
}

/**
 * Nothing but this origin's own files and requests; no inline script or style, no framing, no forms
 * sent elsewhere: whatever a visitor's request put in the page can run nothing.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
}

export interface InspectorOptions {
  traffic: InspectedTraffic
  sources: () => InspectorSources
  /** The inspect.port setting: 0 for any free port. Read when the inspector starts. */
  port: () => number
}

/**
 * The web inspector: an HTTP server on 127.0.0.1 that serves the page and its API, started on the
 * first `tunnelctl inspect` rather than with the supervisor, so that a supervisor nobody inspects
 * opens no port and starts no slower. It then runs until the supervisor stops.
 */
export class InspectorServer {
  private started: Promise<{server: Server; guard: InspectorGuard}> | undefined
  private streams = 0

  constructor(private readonly options: InspectorOptions) {}

  /** Starts it if it is not running; the URL that lets a browser in, token and all. */
  async open(): Promise<InspectorReply> {
    this.started ??= this.start().catch((error: unknown) => {
      this.started = undefined
      throw error
    })
    const {guard} = await this.started
    return {url: `http://127.0.0.1:${guard.port}/?token=${guard.issue()}`, port: guard.port}
  }

  /** Whether a page holds a live list open: the supervisor does not leave while someone watches. */
  get watched(): boolean {
    return this.streams > 0
  }

  async close(): Promise<void> {
    const started = this.started
    this.started = undefined
    if (!started) return
    const {server} = await started.catch(() => ({server: undefined}))
    if (!server) return
    const closed = new Promise((resolve) => server.close(resolve))
    server.closeAllConnections()
    await closed
  }

  private async start(): Promise<{server: Server; guard: InspectorGuard}> {
    const page = await readPage()
    const api = inspectorApi(this.options.traffic, this.options.sources)
    const server = createServer({headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000})
    const guard = new InspectorGuard(await listen(server, this.options.port()))
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void this.serve(request, response, guard, page, api))
    return {server, guard}
  }

  private async serve(
    request: IncomingMessage,
    response: ServerResponse,
    guard: InspectorGuard,
    page: Map<string, {type: string; content: Buffer}>,
    api: ReturnType<typeof inspectorApi>,
  ): Promise<void> {
    const url = requestUrl(request)
    // A target that is no URL at all is refused as anything else without the token is.
    if (!url) return refuse(request, response, 401)
    const verdict = guard.judge(request, url)
    if (!verdict.admit) return refuse(request, response, verdict.status)

    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value)
    response.setHeader('cache-control', 'no-store')
    if (verdict.exchange) {
      // The token leaves the address bar (and the history) at once: from now on the cookie carries it.
      response.writeHead(303, {'set-cookie': guard.cookie(), location: '/', 'content-length': 0}).end()
      return
    }

    if (url.pathname.startsWith('/api/')) {
      await api.handle(request, response, url, {
        opened: () => this.streams++,
        closed: () => this.streams--,
      })
      return
    }

    const file = request.method === 'GET' ? page.get(url.pathname === '/' ? 'index.html' : url.pathname.slice(1)) : undefined
    request.resume()
    if (!file) {
      response.writeHead(404, {'content-length': 0}).end()
      return
    }

    response.writeHead(200, {'content-type': file.type, 'content-length': file.content.length}).end(file.content)
  }
}

/** The status and nothing else: no page, no data, no hint. */
function refuse(request: IncomingMessage, response: ServerResponse, status: number): void {
  request.resume()
  response.writeHead(status, {'content-length': 0, 'cache-control': 'no-store'}).end()
}

/** Undefined for a target such as `http://[` that Node's parser lets through and no URL can be made of. */
function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://inspector')
  } catch {
    return undefined
  }
}

async function readPage(): Promise<Map<string, {type: string; content: Buffer}>> {
  const files = await Promise.all(
    Object.entries(PAGE_FILES).map(async ([name, type]) => [name, {type, content: await readFile(join(INSPECTOR_PAGE_DIR, name))}] as const),
  )
  return new Map(files)
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new TunnelctlError(
              'CONFLICT',
              `inspect.port ${port} is taken by another program. Choose another with \`tunnelctl config set inspect.port <port>\`, or 0 for any free port, then run \`tunnelctl inspect\` again.`,
            )
          : error,
      )
    })
    server.listen(port, '127.0.0.1', () => resolve((server.address() as {port: number}).port))
  })
}
