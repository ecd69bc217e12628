import {readFile} from 'node:fs/promises'
import {basename} from 'node:path'
import {writeFileAtomicallySync} from '../atomic-file.js'
import {isRunning} from './process-alive.js'
import {commandLine} from './process-command-line.js'
import {type ManagedProcess, signalGroup, terminateGroup} from './managed-process.js'

/** What a child was for, so that a successor can say what was lost. */
export type ProviderOwner = {kind: 'provider'; provider: string; endpoint?: string}
export type ChildOwner = {kind: 'tunnel'; port: number} | ProviderOwner

export interface LedgerEntry {
  pid: number
  /** The file that was run and its arguments: with the pid, the child's identity. */
  command: string[]
  owner: ChildOwner
}

const REAP_GRACE_MS = 2000

/**
 * The children this supervisor has running, on disk. A supervisor killed with SIGKILL cannot stop
 * its children (each has a process group of its own, so nothing else does either); the next one
 * reads this file and ends those still running, by pid *and* command line, never by name alone.
 */
export class ChildLedger {
  private readonly entries = new Map<number, LedgerEntry>()

  constructor(private readonly file: string) {}

  /** Records the child until it exits. */
  track(child: ManagedProcess, owner: ChildOwner): void {
    if (child.pid <= 0) return
    this.entries.set(child.pid, {pid: child.pid, command: child.command, owner})
    this.save()
    child.exited.then(() => {
      this.entries.delete(child.pid)
      this.save()
    })
  }

  /** SIGKILLs what is left of every child's group: the last step of a supervisor that exits, whatever failed before. */
  killAll(): void {
    for (const {pid} of this.entries.values()) signalGroup(pid, 'SIGKILL')
  }

  /** Ends the children a previous supervisor left running, and says which they were. */
  async reapPrevious(): Promise<LedgerEntry[]> {
    // Requests are served while this runs: a child this supervisor just started is not a leftover.
    const left = (await this.readPrevious()).filter((entry) => !this.entries.has(entry.pid) && isRunning(entry.pid))
    const ours = (await Promise.all(left.map(async (entry) => ((await isSameProcess(entry)) ? entry : undefined)))).filter(
      (entry): entry is LedgerEntry => entry !== undefined,
    )
    await Promise.all(ours.map((entry) => terminateGroup(entry.pid, REAP_GRACE_MS)))
    this.save()
    return ours
  }

  private async readPrevious(): Promise<LedgerEntry[]> {
    let parsed: unknown
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8'))
    } catch {
      return []
    }

    return Array.isArray(parsed) ? parsed.filter(isLedgerEntry) : []
  }

  // Written synchronously, before the spawn returns: a SIGKILL a moment after a spawn must not lose the child.
  private save(): void {
    try {
      writeFileAtomicallySync(this.file, JSON.stringify([...this.entries.values()]))
    } catch (error) {
      console.error(`could not write ${this.file}: ${(error as Error).message}`)
    }
  }
}

function isLedgerEntry(value: unknown): value is LedgerEntry {
  if (typeof value !== 'object' || value === null) return false
  const {pid, command, owner} = value as Record<string, unknown>
  return (
    typeof pid === 'number' &&
    Number.isInteger(pid) &&
    pid > 1 &&
    Array.isArray(command) &&
    command.length > 0 &&
    command.every((part) => typeof part === 'string') &&
    isChildOwner(owner)
  )
}

function isChildOwner(value: unknown): value is ChildOwner {
  if (typeof value !== 'object' || value === null) return false
  const {kind, port, provider, endpoint} = value as Record<string, unknown>
  if (kind === 'tunnel') return typeof port === 'number'
  return kind === 'provider' && typeof provider === 'string' && (endpoint === undefined || typeof endpoint === 'string')
}

/**
 * Whether the pid still runs the command recorded for it, not some process that got the pid since.
 * The arguments must match to the letter (cloudflared's carry a metrics port and config path of
 * their own); before them, the file may appear as given or behind an interpreter (`node file`).
 */
async function isSameProcess({pid, command}: LedgerEntry): Promise<boolean> {
  const running = await commandLine(pid)
  if (!running) return false
  const [file, ...args] = command
  const expectedTail = args.join(' ')
  return running.endsWith(expectedTail) && running.slice(0, running.length - expectedTail.length).includes(basename(file))
}
