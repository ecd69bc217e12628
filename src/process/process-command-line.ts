import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'

/** The file and arguments a process runs, joined by spaces; undefined when it is gone. /proc on Linux, ps elsewhere. */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ')
  } catch {}

  try {
    const {stdout} = await promisify(execFile)('ps', ['-o', 'args=', '-p', String(pid)])
    return stdout.trim() || undefined
  } catch {
    return undefined
  }
}
