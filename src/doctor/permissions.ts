import {stat} from 'node:fs/promises'
import type {Paths} from '../paths.js'
import {EndpointStore} from '../endpoint-store.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

interface PrivatePath {
  path: string
  mode: number
  why: string
}

/** The modes the supervisor and the endpoint store create things with, and what a looser one gives away. */
async function privatePaths(paths: Paths): Promise<PrivatePath[]> {
  const drive = 'anyone who can reach the socket can drive your supervisor'
  return [
    {path: paths.runtimeDir, mode: 0o700, why: drive},
    {path: paths.socket, mode: 0o600, why: drive},
    {path: paths.configFile, mode: 0o600, why: 'it may hold cloudflare.token'},
    {path: paths.endpointsDir, mode: 0o700, why: 'it holds the endpoints, with their password hashes'},
    // A directory that cannot be listed is the endpoint-files check's to report.
    ...(await new EndpointStore(paths.endpointsDir).files().catch(() => [])).map((path) => ({path, mode: 0o600, why: "it holds the endpoint's password hash"})),
  ]
}

/** The runtime dir is the user's own, and it, the socket, the settings and the endpoint files are private to them. */
export async function checkPermissions(paths: Paths): Promise<Check[]> {
  const problems: Check[] = []
  const uid = process.getuid?.()
  const runtimeOwner = (await statOrUndefined(paths.runtimeDir))?.uid
  if (uid !== undefined && runtimeOwner !== undefined && runtimeOwner !== uid) {
    problems.push({
      id: 'permissions',
      status: 'problem',
      summary: `${paths.runtimeDir} belongs to uid ${runtimeOwner}, not to you (uid ${uid}): whoever owns it can drive your supervisor`,
      fix: `sudo rm -r ${shellWord(paths.runtimeDir)}, or set TUNNELCTL_HOME to a directory of your own`,
    })
  }

  for (const {path, mode, why} of await privatePaths(paths)) {
    const actual = (await statOrUndefined(path))?.mode
    if (actual === undefined || (actual & 0o777) === mode) continue
    problems.push({
      id: 'permissions',
      status: 'problem',
      summary: `${path} is mode ${octal(actual & 0o777)}, not ${octal(mode)}: ${why}`,
      fix: `chmod ${mode.toString(8)} ${shellWord(path)}`,
    })
  }

  return problems.length > 0
    ? problems
    : [{id: 'permissions', status: 'ok', summary: 'the run directory, socket, settings and endpoint files are yours alone'}]
}

/** Undefined when it does not exist, or sits in a directory that cannot be entered, which is reported by itself. */
async function statOrUndefined(path: string): Promise<{uid: number; mode: number} | undefined> {
  try {
    return await stat(path)
  } catch {
    return undefined
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}
