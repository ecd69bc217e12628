import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {open, rename, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

/**
 * Every file tunnelctl writes for itself (never conf's settings, which conf writes) is written this
 * way: a temp file beside it, fsync, rename, fsync of the directory. A crash, a SIGKILL or a full disk
 * leaves the old file or the new one, never half of one, and a reader never sees one half written.
 * Owner-only, whatever it holds.
 */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const temp = tempBeside(file)
  try {
    const handle = await open(temp, 'wx', 0o600)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }

    await rename(temp, file)
  } catch (error) {
    await rm(temp, {force: true}).catch(() => {})
    throw error
  }

  const dir = await open(dirname(file), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/** As writeFileAtomically, for a caller that must not return before the file is there (e.g. right after a spawn). */
export function writeFileAtomicallySync(file: string, content: string): void {
  const temp = tempBeside(file)
  try {
    const fd = openSync(temp, 'wx', 0o600)
    try {
      writeFileSync(fd, content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    renameSync(temp, file)
  } catch (error) {
    rmSync(temp, {force: true})
    throw error
  }

  const dir = openSync(dirname(file), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

function tempBeside(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
}
