import {setTimeout as delay} from 'node:timers/promises'
import type {ResultPromise} from './execa.js'
import {isGroupRunning} from './process-alive.js'
import {spawnChild} from './run.js'

export interface ExitInfo {
  exitCode: number | null
  signal: NodeJS.Signals | null
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv
  /** Called for every line the process writes, stdout and stderr alike. */
  onLine?: (line: string) => void
}

const LAST_LINES_KEPT = 20
const GROUP_POLL_MS = 25
const OUTPUT_DRAIN_MS = 200

/**
 * A child in a process group of its own, so that stopping it also stops whatever it spawned (npm
 * shims and shell wrappers put the real binary one level down), and so that a terminal's Ctrl-C
 * aimed at a client never reaches it.
 */
export class ManagedProcess {
  readonly pid: number
  /** The file run and its arguments. */
  readonly command: string[]
  readonly exited: Promise<ExitInfo>
  private exitInfo: ExitInfo | undefined
  private stopping: Promise<ExitInfo> | undefined

  private constructor(
    command: string[],
    child: ResultPromise,
    /** The last lines it printed, filled in as it prints them. */
    private readonly lines: string[],
  ) {
    this.command = command
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (exitCode, signal) => resolve({exitCode, signal}))
      // Settles without 'exit' when it never ran (e.g. EACCES).
      void child.then(() => resolve({exitCode: null, signal: null}))
    }).then(async (info) => {
      // 'exit' can come before the last lines are read, and execa settles only once they are; a crash
      // report without them is useless. A grandchild holding the pipes open must not hold up the exit,
      // hence the bound.
      await Promise.race([child, delay(OUTPUT_DRAIN_MS)])
      this.exitInfo = info
      return info
    })
    // pid is undefined only when spawn failed outright (e.g. EACCES); exited settles at once then.
    this.pid = child.pid ?? -1
  }

  static async spawn(file: string, args: string[], options: SpawnOptions): Promise<ManagedProcess> {
    const lines: string[] = []
    const {subprocess} = await spawnChild(file, args, {
      env: options.env,
      onLine(line) {
        lines.push(line)
        if (lines.length > LAST_LINES_KEPT) lines.shift()
        options.onLine?.(line)
      },
    })
    return new ManagedProcess([file, ...args], subprocess, lines)
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined
  }

  /** True once stop() was called: an exit after that is expected, not a crash. */
  get stopRequested(): boolean {
    return this.stopping !== undefined
  }

  lastLines(): string[] {
    return [...this.lines]
  }

  /** SIGTERM to the group; SIGKILL to whatever of it is left after graceMs. Safe to call twice. */
  stop(graceMs: number): Promise<ExitInfo> {
    this.stopping ??= terminateGroup(this.pid, graceMs, this.exited).then(() => this.exited)
    return this.stopping
  }

  /** Ends what is left of the group at once, e.g. a wrapper's children after the wrapper died. */
  killGroup(): void {
    signalGroup(this.pid, 'SIGKILL')
  }
}

/**
 * SIGTERM to a process group, then SIGKILL to whatever of it is left once the leader has exited and
 * the rest had until graceMs. `leaderExited` ends the first wait early for a child of ours.
 */
export async function terminateGroup(pgid: number, graceMs: number, leaderExited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + graceMs
  if (!signalGroup(pgid, 'SIGTERM')) return
  if (leaderExited) await Promise.race([leaderExited, delay(graceMs)])
  while (isGroupRunning(pgid) && Date.now() < deadline) await delay(GROUP_POLL_MS)
  signalGroup(pgid, 'SIGKILL')
}

/** Signals every process of the group; false when there is none. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (pgid <= 0) return false
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

export function describeExit({exitCode, signal}: ExitInfo): string {
  if (signal) return `signal ${signal}`
  if (exitCode !== null) return `code ${exitCode}`
  return 'an unknown status'
}
