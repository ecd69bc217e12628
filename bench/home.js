// One isolated tunnelctl for the whole bench: its own TUNNELCTL_HOME, the fake cloudflared first on
// PATH, and a way to end every process it started, whatever happened.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {requestJson} from '../dist/client/socket-request.js'
import {COMMAND_TIMEOUT_MS, runCommand, waitFor} from './harness.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')
const FIXTURE_BIN = join(ROOT, 'test', 'fixtures', 'bin')
// Stopping 100 tunnels takes about a second; a supervisor that takes this long is killed instead.
const STOP_TIMEOUT_MS = 30_000

export class BenchHome {
  // Short: the socket path under it must stay within the unix socket limit.
  home = mkdtempSync(join(tmpdir(), 'tcb-'))
  fakeState = join(this.home, 'fake')
  /** Where the fake cloudflared appends `<epoch ms> <url>` as it writes each URL. */
  urlTimes = join(this.home, 'url-times')
  socket = join(this.home, 'run', 'supervisor.sock')

  constructor() {
    mkdirSync(this.fakeState)
    this.env = {
      ...process.env,
      TUNNELCTL_HOME: this.home,
      FAKE_CLOUDFLARED_STATE: this.fakeState,
      FAKE_CLOUDFLARED_URL_TIMES: this.urlTimes,
      // Registered the moment its URL is out, so that the URL is usable when it is printed; the
      // supervisor passes these on to the cloudflared it runs.
      FAKE_CLOUDFLARED_REGISTER_DELAY_MS: '0',
      FAKE_CLOUDFLARED_URL_DELAY_MS: '5',
      PATH: [FIXTURE_BIN, process.env.PATH].join(delimiter),
      NO_COLOR: '1',
    }
  }

  /** The argv of a tunnelctl command, for the timing harness. */
  argv(args) {
    return [process.execPath, BIN, ...args]
  }

  cli(args) {
    return runCommand(this.argv(args), this.env)
  }

  async json(args) {
    return JSON.parse((await this.cli([...args, '--json'])).stdout)
  }

  /** One request to the control API, given as long as a command; a reply that is not 2xx rejects. */
  async request(method, path, body) {
    const reply = await requestJson(this.socket, method, path, COMMAND_TIMEOUT_MS, body)
    if (reply.status < 200 || reply.status > 299) throw new Error(`${method} ${path}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`)
    return reply.body
  }

  supervisorPid() {
    try {
      return Number(readFileSync(join(this.home, 'run', 'supervisor.pid'), 'utf8'))
    } catch {
      return undefined
    }
  }

  /** Pids of every fake cloudflared that ever ran here (each records itself). */
  fakeCloudflaredPids() {
    return readdirSync(this.fakeState)
      .filter((name) => /^\d+\.json$/.test(name))
      .map((name) => Number.parseInt(name, 10))
  }

  /** Processes whose environment names this home: the supervisor and everything it started. */
  processes() {
    const entry = `TUNNELCTL_HOME=${this.home}`
    const found = []
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      try {
        if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) continue
        // A zombie has no command line: it is dead, only not yet reaped.
        if (readFileSync(`/proc/${name}/cmdline`, 'utf8')) found.push(Number(name))
      } catch {}
    }

    return found
  }

  /**
   * Stops the supervisor as a user would, kills whatever of this home still runs, and removes the
   * home. Runs even after interruptCommands(), which refuses every other command.
   */
  async cleanup() {
    const [file, ...args] = this.argv(['supervisor', 'stop'])
    const stop = spawnSync(file, args, {env: this.env, encoding: 'utf8', timeout: STOP_TIMEOUT_MS, killSignal: 'SIGKILL'})
    if (stop.status !== 0) console.error(`supervisor stop failed: ${stop.stderr || stop.error?.message || stop.signal}`)

    let left = []
    try {
      await waitFor('the processes to exit', () => (left = this.processes()).length === 0, {timeoutMs: 3000, everyMs: 50})
    } catch {}

    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }

    rmSync(this.home, {recursive: true, force: true})
    return left
  }
}
