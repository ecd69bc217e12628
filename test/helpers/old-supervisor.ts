import {chmodSync, mkdirSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

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
    const runDir = join(this.home, 'run')
    const socket = join(runDir, 'supervisor.sock')
    mkdirSync(runDir, {mode: 0o700, recursive: true})
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      if (req.url === '/v1/status') {
        res.end(JSON.stringify({version: OLD_VERSION, pid: this.pid, startedAt: new Date().toISOString(), socket, configDir: this.home, tunnels}))
      } else if (req.url === '/v1/shutdown') {
        res.end(JSON.stringify({stopped: []}), () => server.close())
      } else {
        res.statusCode = 409
        res.end(JSON.stringify({error: {code: 'VERSION_MISMATCH', message: 'old'}}))
      }
    })
    this.server = server
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    chmodSync(socket, 0o600)
  }

  close(): void {
    this.server?.closeAllConnections()
    this.server?.close()
  }
}
