/**
 * The PATH a start request carries: the supervisor outlives the shell it was started from, so a
 * program installed since then is found only on the PATH of the command that asks for it.
 */
import {delimiter, isAbsolute, resolve} from 'node:path'

/** Longer than any PATH a shell would hold; bounds what a request or an endpoint file may carry. */
export const MAX_SEARCH_PATH_CHARS = 32_768

/**
 * This command's PATH as the supervisor should search it: each directory absolute against this
 * working directory (the supervisor runs in another), empty entries dropped. undefined without a PATH.
 */
export function callerSearchPath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  if (env.PATH === undefined) return undefined
  return env.PATH.split(delimiter)
    .filter(Boolean)
    .map((dir) => resolve(cwd, dir))
    .join(delimiter)
}

/** What is wrong with a search path read from the socket or a file, or undefined when nothing is. */
export function searchPathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string: absolute directories separated by "${delimiter}", as in PATH`
  if (value.length > MAX_SEARCH_PATH_CHARS) return `is longer than ${MAX_SEARCH_PATH_CHARS} characters`
  if (value.includes('\0')) return 'must not contain a NUL character'
  const relative = value === '' ? undefined : value.split(delimiter).find((dir) => !isAbsolute(dir))
  if (relative !== undefined) return `holds ${JSON.stringify(relative)}, which is not an absolute directory`
  return undefined
}
