import {readFileSync} from 'node:fs'

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
