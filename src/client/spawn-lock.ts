import {closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {isRunning} from '../process-alive.js'

// A holder that has not finished spawning by then has hung; its lock no longer counts.
const STALE_AFTER_MS = 30_000

/**
 * Tries once to take the lock that makes spawning a supervisor a one-at-a-time affair. Returns a
 * release function, or undefined when another live process holds it. A lock whose holder died is
 * removed, and the next try can take it.
 */
export function tryAcquireSpawnLock(path: string): (() => void) | undefined {
  try {
    const fd = openSync(path, 'wx', 0o600)
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return () => release(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }

  if (isSpawnLockStale(path)) {
    try {
      unlinkSync(path)
    } catch {}
  }

  return undefined
}

function release(path: string): void {
  try {
    if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path)
  } catch {}
}

/** Whether the lock's holder died or hung; false when there is no lock. */
export function isSpawnLockStale(path: string): boolean {
  try {
    const holder = Number(readFileSync(path, 'utf8'))
    if (Date.now() - statSync(path).mtimeMs > STALE_AFTER_MS) return true
    // A lock file can be caught between its creation and the pid being written.
    if (!Number.isInteger(holder) || holder <= 0) return false
    return !isRunning(holder)
  } catch {
    // Gone already: the next try takes it.
    return false
  }
}
