import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'
import {VERSION} from '../../src/version.js'

export const OLD_VERSION = '0.0.1'

/**
 * A supervisor of another version, as far as the protocol shows: it answers status, obeys
 * shutdown, and refuses everything else as a version mismatch.
 */
export class OldSupervisor {
  private server: Server | undefined

  /** `pid` is what its status claims: a live one, or one that is not running. */
  constructor(
    private readonly home: string,
    private readonly pid: number,
  ) {}

  async start(tunnels: number): Promise<void> {
    const socket = join(this.home, 'run', 'supervisor.sock')
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      if (req.url === '/v1/status') {
        res.end(JSON.stringify({version: OLD_VERSION, pid: this.pid, startedAt: new Date().toISOString(), socket, configDir: this.home, tunnels}))
      } else if (req.url === '/v1/shutdown') {
        // It stops listening before it answers. The client waits for the exit of the pid its status
        // named, and this one's is not running, so the client probes again at once: a real
        // supervisor has stopped listening by the time its process has gone.
        server.close()
        res.end(JSON.stringify({stopped: []}))
      } else {
        res.statusCode = 409
        res.end(JSON.stringify({error: {code: 'VERSION_MISMATCH', message: 'old'}}))
      }
    })
    this.server = server
    await listenOn(server, socket)
  }

  close(): void {
    this.server?.closeAllConnections()
    this.server?.close()
  }
}

/**
 * A supervisor that takes every request and never answers, as a stuck one looks from outside; with
 * `answersStatus`, one that answers its status as this version, and `replies` (bodies by request path: a
 * string as it is, NDJSON say, anything else as JSON), and nothing else: what a broken or newer build may send. Its pid file names `pid`: a live
 * process that is not a supervisor, so that nothing may signal it.
 */
export class SilentSupervisor {
  private readonly server: Server

  constructor(
    private readonly home: string,
    private readonly pid: number,
    answersStatus = false,
    replies: Record<string, unknown> = {},
  ) {
    this.server = createServer((req, res) => {
      const status = {version: VERSION, pid, startedAt: new Date().toISOString(), socket: join(home, 'run', 'supervisor.sock'), configDir: home, tunnels: 0}
      const reply = answersStatus && req.url === '/v1/status' ? status : replies[req.url ?? '']
      if (reply !== undefined) {
        res.setHeader('content-type', 'application/json')
        res.end(typeof reply === 'string' ? reply : JSON.stringify(reply))
      }
    })
  }

  async start(): Promise<void> {
    mkdirSync(join(this.home, 'run'), {mode: 0o700, recursive: true})
    writeFileSync(join(this.home, 'run', 'supervisor.pid'), `${this.pid}\n`)
    await listenOn(this.server, join(this.home, 'run', 'supervisor.sock'))
  }

  close(): void {
    this.server.closeAllConnections()
    this.server.close()
  }
}

/**
 * A supervisor of this version that holds nothing, as far as the protocol shows: every reply names
 * its version, as the control server's do. It records each request, as `GET /v1/tunnels`.
 */
export class EmptySupervisor {
  readonly requests: string[] = []
  private readonly server: Server

  constructor(private readonly home: string) {
    const socket = join(home, 'run', 'supervisor.sock')
    this.server = createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`)
      const bodies: Record<string, unknown> = {
        '/v1/status': {version: VERSION, pid: process.pid, startedAt: new Date().toISOString(), socket, configDir: home, tunnels: 0, endpoints: 0},
        '/v1/tunnels': {tunnels: []},
        '/v1/endpoints': {endpoints: []},
      }
      res.setHeader('tunnelctl-version', VERSION)
      res.setHeader('content-type', 'application/json')
      res.statusCode = req.url! in bodies ? 200 : 404
      res.end(JSON.stringify(bodies[req.url!] ?? {error: {code: 'NOT_FOUND', message: 'not here'}}))
    })
  }

  async start(): Promise<void> {
    await listenOn(this.server, join(this.home, 'run', 'supervisor.sock'))
  }

  close(): void {
    this.server.closeAllConnections()
    this.server.close()
  }
}

async function listenOn(server: Server, socket: string): Promise<void> {
  mkdirSync(join(socket, '..'), {mode: 0o700, recursive: true})
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  chmodSync(socket, 0o600)
}
