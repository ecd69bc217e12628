import {readFileSync} from 'node:fs'

/** The pid the supervisor's pid file names; undefined when there is none, or it names no pid. */
export function readSupervisorPid(pidFile: string): number | undefined {
  try {
    const text = readFileSync(pidFile, 'utf8').trim()
    return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined
  } catch {
    return undefined
  }
}
