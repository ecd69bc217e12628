import {readdirSync, readFileSync} from 'node:fs'
import {setTimeout as delay} from 'node:timers/promises'

const EXIT_POLL_MS = 20

/**
 * Whether a process is running. An exited process stays a zombie until its parent reaps it, and
 * signal 0 still reaches a zombie; a daemonised supervisor's parent is init, which may take its
 * time. On Linux /proc tells the two apart.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }

  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

/**
 * Whether any process of the group is running. Signal 0 to the group succeeds while a single zombie
 * of it waits to be reaped, and a wrapper's children, once orphaned, wait on init; on Linux /proc
 * shows which members are only zombies.
 */
export function isGroupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }

  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return true
  }

  return pids.some((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      // After the command's closing parenthesis: state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(pgrp) === pgid && state !== 'Z'
    } catch {
      return false
    }
  })
}

/** Whether the process is gone within timeoutMs, looking every few milliseconds. */
export async function exitedWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true
    await delay(EXIT_POLL_MS)
  }

  return !isRunning(pid)
}
