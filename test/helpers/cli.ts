import {execa, type ResultPromise} from 'execa'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {WAIT_MS, within} from './wait.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')
export const FIXTURE_BIN = join(ROOT, 'test', 'fixtures', 'bin')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

interface FakeRun {
  pid: number
  args: string[]
  mode: string
  tunnelEnv: string[]
  /** How a named tunnel got its token. */
  tokenFrom?: 'args' | 'env'
  childPid?: number
}

/**
 * One isolated tunnelctl: its own TUNNELCTL_HOME, the fake cloudflared first on PATH, and a record
 * of every process it starts, so that cleanup() can prove none is left behind.
 */
export class TestHome {
  readonly home = mkdtempSync(join(tmpdir(), 'tc-'))
  readonly fakeState = join(this.home, 'fake')
  env: NodeJS.ProcessEnv

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    mkdirSync(this.fakeState)
    this.env = {
      ...process.env,
      TUNNELCTL_HOME: this.home,
      FAKE_CLOUDFLARED_STATE: this.fakeState,
      FAKE_TAILSCALE_STATE: this.fakeState,
      PATH: [FIXTURE_BIN, process.env.PATH].join(delimiter),
      NO_COLOR: '1',
      ...extraEnv,
    }
  }

  /** Runs tunnelctl to its end; one that has not exited after WAIT_MS is killed and fails the test with what it printed. */
  async run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const result = await execa(process.execPath, [BIN, ...args], {env: {...this.env, ...env}, extendEnv: false, reject: false, timeout: WAIT_MS})
    if (result.timedOut) {
      throw new Error(`tunnelctl ${args.join(' ')} did not exit within ${WAIT_MS} ms\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
    }

    return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
  }

  /**
   * Runs tunnelctl on a pseudo-terminal (`script`), as a person at a terminal would: stdin, stdout and
   * stderr are the terminal, so what it printed comes out as one text, with \r\n line ends;
   * `columns` sets its width; `input` is typed at it.
   */
  async runOnTerminal(args: string[], env: NodeJS.ProcessEnv = this.env, columns?: number, input?: string): Promise<CliResult> {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')
    const sized = columns === undefined ? command : `stty cols ${columns} && ${command}`
    const result = await execa('script', ['-qec', sized, '/dev/null'], {env, extendEnv: false, reject: false, timeout: WAIT_MS, ...(input !== undefined && {input})})
    if (result.timedOut) throw new Error(`tunnelctl ${args.join(' ')} on a terminal did not exit within ${WAIT_MS} ms\noutput: ${result.stdout}`)
    return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
  }

  /** Runs a command expected to print one JSON document, and parses it. */
  async json<T = any>(args: string[]): Promise<{exitCode: number; body: T; stderr: string}> {
    const result = await this.run([...args, '--json'])
    return {exitCode: result.exitCode, body: JSON.parse(result.stdout) as T, stderr: result.stderr}
  }

  /** A command left running (e.g. `events --follow`); the caller kills it. */
  spawn(args: string[]): ResultPromise {
    return execa(process.execPath, [BIN, ...args], {env: this.env, extendEnv: false, reject: false})
  }

  /**
   * Makes the local provider listen on a free port on 127.0.0.1 only, where tests may reach it (Linux
   * routes all of 127/8 there, so a test may connect from any 127.x address), with `hostname` as its
   * host name; resolves with the port.
   */
  async localProviderOnLoopback(hostname: string): Promise<number> {
    const port = await findFreeLoopbackPort()
    await this.run(['config', 'set', 'local.address', '127.0.0.1'])
    await this.run(['config', 'set', 'local.port', String(port)])
    await this.run(['config', 'set', 'local.hostname', hostname])
    return port
  }

  /**
   * Makes the fake cloudflared for this origin port (or every port) behave as `mode`. A tunnel
   * through the proxy has the proxy as its origin: fakeModeNext picks out one of those.
   */
  fakeMode(mode: string, port?: number): void {
    writeFileSync(join(this.fakeState, port === undefined ? 'mode' : `mode-${port}`), mode)
  }

  /** Makes the next fake cloudflared to start, and only it, behave as `mode`. */
  fakeModeNext(mode: string): void {
    writeFileSync(join(this.fakeState, 'mode-next'), mode)
  }

  fakeRuns(): FakeRun[] {
    return readdirSync(this.fakeState)
      .filter((name) => /^\d+\.json$/.test(name))
      .map((name) => JSON.parse(readFileSync(join(this.fakeState, name), 'utf8')) as FakeRun)
  }

  supervisorPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.home, 'run', 'supervisor.pid'), 'utf8'))
    } catch {
      return undefined
    }
  }

  eventsLog(): Array<Record<string, any>> {
    try {
      return readFileSync(join(this.home, 'events.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    } catch {
      return []
    }
  }

  /** Processes whose environment names this home: the supervisor and everything it started. */
  processes(): Array<{pid: number; cmdline: string}> {
    return processesWithEnv(`TUNNELCTL_HOME=${this.home}`).filter((p) => p.pid !== process.pid)
  }

  /**
   * Stops the supervisor the way a user would, then kills and returns whatever is still alive:
   * the caller asserts that nothing was.
   */
  async cleanup(): Promise<Array<{pid: number; cmdline: string}>> {
    await this.run(['supervisor', 'stop'])
    let left = this.processes()
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await delay(50)
      left = this.processes()
    }

    for (const {pid} of left) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }

    rmSync(this.home, {recursive: true, force: true})
    return left
  }
}

export {isRunning as isAlive} from '../../src/process/process-alive.js'

export {waitFor} from './wait.js'

/** What a supervisor killed with SIGKILL leaves: a socket file that nothing listens on. */
export async function leaveStaleSocket(socket: string): Promise<void> {
  mkdirSync(dirname(socket), {recursive: true, mode: 0o700})
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], {stdio: ['ignore', 'pipe', 'inherit']})
  await within('a stand-in supervisor to listen', new Promise((resolve) => holder.stdout!.once('data', resolve)))
  holder.kill('SIGKILL')
  await within('the stand-in supervisor to die', new Promise((resolve) => holder.once('exit', resolve)))
}

function processesWithEnv(entry: string): Array<{pid: number; cmdline: string}> {
  const found: Array<{pid: number; cmdline: string}> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0')
      if (!environ.includes(entry)) continue
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim()
      // A zombie has no cmdline: it is dead, only not yet reaped by its parent.
      if (cmdline) found.push({pid: Number(name), cmdline})
    } catch {}
  }

  return found
}
