// What a process costs, from /proc (Linux): its CPU time and its resident memory.
import {readFileSync} from 'node:fs'

/** Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100

/** User plus system CPU time of the processes, in µs, or undefined where /proc cannot tell (not Linux). */
export function cpuMicros(pids) {
  let ticks = 0
  for (const pid of pids) {
    const split = cpuSplit(pid)
    if (split === undefined) return undefined
    ticks += split.user + split.system
  }

  return (ticks * 1e6) / TICKS_PER_SECOND
}

/** A process's CPU time in user space and in the kernel, in clock ticks, or undefined where /proc cannot tell. */
export function cpuSplit(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name, in parentheses, may hold spaces: the fields are counted after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {user: Number(fields[11]), system: Number(fields[12])}
  } catch {
    return undefined
  }
}

/** Resident set size of a process in bytes, or undefined. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}
