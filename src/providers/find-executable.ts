import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

/** The first executable of that name in the search path (this process's own PATH when undefined), or undefined. */
export async function findOnPath(name: string, searchPath: string | undefined = process.env.PATH): Promise<string | undefined> {
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    if (await isExecutable(candidate)) return candidate
  }

  return undefined
}

/** The environment for a process found in the search path: it runs with that PATH too, as it would from the caller's shell. */
export function envWithSearchPath(searchPath: string | undefined, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return searchPath === undefined ? env : {...env, PATH: searchPath}
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
