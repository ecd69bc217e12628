import {execa} from 'execa'

/** Only root may act as another user; the tests that do are skipped otherwise. */
export const IS_ROOT = process.getuid?.() === 0
const NOBODY = 65_534

/** Runs a Node script as the unprivileged user nobody, with no groups; resolves with what it printed. */
export async function runAsNobody(script: string, args: string[] = []): Promise<string> {
  const {stdout} = await execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', script, ...args])
  return stdout.trim()
}
