import {readFile} from 'node:fs/promises'
import {runCommand} from './run.js'

// ps answers at once; one that does not is hung, and the pid's process is taken for gone.
const PS_TIMEOUT_MS = 10_000

/** The file and arguments a process runs, joined by spaces; undefined when it is gone. /proc on Linux, ps elsewhere. */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ')
  } catch {}

  const {failure, stdout} = await runCommand('ps', ['-o', 'args=', '-p', String(pid)], {timeoutMs: PS_TIMEOUT_MS})
  return (!failure && stdout.trim()) || undefined
}
