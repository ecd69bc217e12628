import {readFileSync} from 'node:fs'

/** The last lines of the log the supervisor's stdout and stderr go to; [] when there is none yet. */
export function readLogTail(path: string, lines: number): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }

  return text.split('\n').filter(Boolean).slice(-lines)
}
