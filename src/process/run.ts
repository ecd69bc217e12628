/**
 * Every child process tunnelctl starts, it starts here, through execa: the supervisor's and the
 * providers' long-running children (managed-process.ts), the short commands of the tailscale
 * provider, doctor, the boot service and the `ps` look-up (runCommand), and the client's detached
 * supervisor (spawnDetached). execa is loaded on first use, not with the module: a command or a
 * supervisor that starts nothing does not pay for loading it.
 */
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import type {ResultPromise} from './execa.js'

let execaModule: Promise<typeof import('./execa.js')> | undefined

function loadExeca(): Promise<typeof import('./execa.js')> {
  execaModule ??= import('./execa.js')
  return execaModule
}

export interface CommandResult {
  /** undefined when it was ended by a signal, or never ran. */
  exitCode: number | undefined
  stdout: string
  stderr: string
  /** Why it failed, for a person: undefined when it exited 0. */
  failure: string | undefined
  timedOut: boolean
  /** Set when it could not be run at all: the system's code (ENOENT, EACCES, ENOEXEC) and message. */
  notRun: {code: string; message: string} | undefined
}

export interface CommandOptions {
  timeoutMs: number
  /** The whole environment it gets; the caller's own when not given. */
  env?: NodeJS.ProcessEnv
}

/**
 * Runs a command to its end and returns what it printed, whatever its exit status; one that has not
 * ended within timeoutMs is terminated. No stdin: nothing tunnelctl runs should wait for a person.
 * Not cleaned up when this process exits: each is bounded by its timeout, and a supervisor shutting
 * down may still need the answer (e.g. tailscale's).
 */
export async function runCommand(file: string, args: string[], options: CommandOptions): Promise<CommandResult> {
  const {execa} = await loadExeca()
  const result = await execa(file, args, {
    ...(options.env && {env: options.env, extendEnv: false}),
    timeout: options.timeoutMs,
    stdin: 'ignore',
    stripFinalNewline: false,
    cleanup: false,
    reject: false,
  })
  const notRun = notRunOf(result)
  let failure: string | undefined
  if (result.timedOut) failure = `it gave no answer within ${options.timeoutMs / 1000} s`
  else if (notRun) failure = `it could not be run: ${notRun.message}`
  else if (result.signal) failure = `it was ended by signal ${result.signal}`
  else if (result.exitCode !== 0) failure = `it exited with code ${result.exitCode}`
  return {exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, failure, timedOut: result.timedOut, notRun}
}

/** Why a command never ran (ENOENT, EACCES, ENOEXEC), or undefined when it ran. */
function notRunOf(result: {exitCode?: number; signal?: string; timedOut: boolean; code?: string; originalMessage?: string}): CommandResult['notRun'] {
  if (result.exitCode !== undefined || result.signal || result.timedOut) return undefined
  const code = result.code ?? 'an unknown error'
  return {code, message: result.originalMessage || code}
}

export interface ChildOptions {
  /** The whole environment it gets: nothing of this process's is added (cloudflared must not see TUNNEL_*). */
  env: NodeJS.ProcessEnv
  /** Called with every line it prints, stdout and stderr alike. */
  onLine(line: string): void
}

/**
 * A long-running child, leader of a process group of its own, its output read line by line. Stopping
 * it is the caller's (managed-process.ts): execa's kill() and forceKillAfterDelay reach the leader
 * only, and it is the whole group that must go.
 */
export async function spawnChild(file: string, args: string[], options: ChildOptions): Promise<Spawned> {
  const {execa} = await loadExeca()
  const subprocess = execa(file, args, {
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
    forceKillAfterDelay: false,
  })
  // node:readline rather than execa's line transforms: a supervisor holds hundreds of these
  // children, and the transforms' streams cost it several times the memory for each.
  for (const output of [subprocess.stdout, subprocess.stderr]) createInterface({input: output, crlfDelay: Number.POSITIVE_INFINITY}).on('line', options.onLine)
  return {subprocess}
}

/** Wrapped: a subprocess is a promise of its end, which resolving an async function with it would wait for. */
export interface Spawned {
  subprocess: ResultPromise
}

export interface DetachedOptions {
  env: NodeJS.ProcessEnv
  cwd: string
  /** The file descriptor its stdout and stderr are appended to. */
  logFd: number
}

/**
 * A process that outlives this one (the supervisor a command starts): its own session, output to a
 * log, and a pipe on fd 3 that it closes once it is ready (or exits). Not waited for: this process may
 * exit while it runs.
 */
export async function spawnDetached(file: string, args: string[], options: DetachedOptions): Promise<Detached> {
  const {execa} = await loadExeca()
  // execa hands a file descriptor to spawn as it is (its native case), but its types name only 0–9.
  const log = options.logFd as 9
  const subprocess = execa(file, args, {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', log, log, 'pipe'],
    buffer: false,
    reject: false,
    cleanup: false,
    forceKillAfterDelay: false,
  })
  subprocess.unref()
  let exited = false
  subprocess.once('exit', () => (exited = true))
  return {readyPipe: subprocess.stdio[3], hasExited: () => exited}
}

export interface Detached {
  /** Closed by the process once it is ready, and by its exit. */
  readyPipe: Readable
  hasExited(): boolean
}

export interface ForegroundEnd {
  /** undefined when it was ended by a signal, or never ran. */
  exitCode: number | undefined
  signal: NodeJS.Signals | undefined
  notRun: CommandResult['notRun']
}

export interface Foreground {
  ended: Promise<ForegroundEnd>
  kill(signal: NodeJS.Signals): void
}

/**
 * A command run for a person or a script in this process's place (`tunnel run … -- <command>`): this
 * process's stdin, stdout and stderr, and its process group, so that it keeps the terminal; the
 * caller forwards the signals it gets.
 */
export async function runInForeground(file: string, args: string[], options: {env: NodeJS.ProcessEnv}): Promise<Foreground> {
  const {execa} = await loadExeca()
  const subprocess = execa(file, args, {
    env: options.env,
    extendEnv: false,
    stdio: 'inherit',
    reject: false,
    cleanup: false,
    forceKillAfterDelay: false,
  })
  const ended = subprocess.then((result) => ({exitCode: result.exitCode, signal: result.signal, notRun: notRunOf(result)}))
  return {ended, kill: (signal) => subprocess.kill(signal)}
}
