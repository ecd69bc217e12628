import {randomBytes} from 'node:crypto'
import {closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {setTimeout as delay} from 'node:timers/promises'
import {isRunning} from './process/process-alive.js'

// Locks guard a few hundred milliseconds of work: a holder that has not finished by then has hung,
// and its lock no longer counts.
const STALE_AFTER_MS = 30_000
// A claim is held for two system calls: one this old was left by a process killed between them.
const CLAIM_STUCK_AFTER_MS = 10_000
const RELEASE_TRIES = 50
const RELEASE_RETRY_MS = 2
const ACQUIRE_RETRY_MS = 20

/**
 * Tries once to take a lock file: the spawn lock, that makes spawning a supervisor a one-at-a-time
 * affair, and the socket lock, that does the same for binding the supervisor's socket. Returns a
 * release function, or undefined when another live process holds it. A lock whose holder died (or
 * hung) is removed, and the next try can take it.
 *
 * The lock file holds its holder's pid from the moment it exists: it is written under a name of its
 * own and then hard-linked into place, which fails when a lock is there. Removing a lock, a stale
 * one or one's own, happens only under the claim (`<lock>.claim`, created exclusively) and after the
 * lock is read again under it. Checking and then deleting without the claim lets a process delete
 * the lock another has just taken, and then both spawn.
 */
export function tryAcquireLock(path: string): (() => Promise<void>) | undefined {
  if (create(path)) return () => release(path)
  removeUnderClaim(path, isStale)
  return undefined
}

/** Tries until timeoutMs has passed; undefined when the lock did not come. */
export async function acquireLock(path: string, timeoutMs: number): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const release = tryAcquireLock(path)
    if (release) return release
    await delay(ACQUIRE_RETRY_MS)
  }

  return undefined
}

/** Whether the lock's holder died or hung; false when there is no lock. */
export function isLockStale(path: string): boolean {
  const holder = readHolder(path)
  return holder !== undefined && isStale(holder)
}

/** The claim, when a process was killed while it held it: nothing removes the lock until it is deleted. */
export function stuckLockClaim(path: string): string | undefined {
  const claim = claimOf(path)
  try {
    return Date.now() - statSync(claim).mtimeMs > CLAIM_STUCK_AFTER_MS ? claim : undefined
  } catch {
    return undefined
  }
}

interface Holder {
  /** undefined when the file does not name a pid. */
  pid: number | undefined
  ageMs: number
}

function create(path: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(temp, String(process.pid), {mode: 0o600, flag: 'wx'})
  try {
    linkSync(temp, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return false
  } finally {
    unlinkSync(temp)
  }
}

/** Our own lock, removed under the claim; a stealer holds the claim only for a moment, so it is tried again. */
async function release(path: string): Promise<void> {
  for (let i = 0; i < RELEASE_TRIES; i++) {
    if (removeUnderClaim(path, (holder) => holder.pid === process.pid)) return
    await delay(RELEASE_RETRY_MS)
  }
}

/**
 * Deletes the lock when `remove` says so of it as read under the claim. Returns false when another
 * process has the claim, and leaves the lock alone.
 */
function removeUnderClaim(path: string, remove: (holder: Holder) => boolean): boolean {
  const claim = claimOf(path)
  try {
    closeSync(openSync(claim, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }

  try {
    const holder = readHolder(path)
    if (holder && remove(holder)) unlinkSync(path)
  } finally {
    unlinkSync(claim)
  }

  return true
}

function readHolder(path: string): Holder | undefined {
  try {
    const text = readFileSync(path, 'utf8')
    const ageMs = Date.now() - statSync(path).mtimeMs
    return {pid: /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined, ageMs}
  } catch {
    // Gone already: the next try takes it.
    return undefined
  }
}

function isStale({pid, ageMs}: Holder): boolean {
  return pid === undefined || ageMs > STALE_AFTER_MS || !isRunning(pid)
}

function claimOf(path: string): string {
  return `${path}.claim`
}
