import {type ExitInfo, ManagedProcess} from './managed-process.js'

export interface ReadyOptions<T> {
  env: NodeJS.ProcessEnv
  timeoutMs: number
  /** Aborting stops the process. */
  signal: AbortSignal
  stopGraceMs: number
  /** Called as soon as the process runs, before it is ready: whoever owns processes may want to know. */
  onSpawn?: (child: ManagedProcess) => void
  /** Fed every line the process prints; what it offers once a line shows it is ready. */
  ready(line: string): T | undefined
}

type ReadyOutcome<T> =
  | {ready: true; process: ManagedProcess; value: T}
  /** The process was stopped (or had exited) by the time this resolves. */
  | {ready: false; why: 'exited' | 'timeout' | 'aborted'; exit: ExitInfo; lastLines: string[]}

/** Runs a process and waits until its output says it is ready; one that is not in time is stopped. */
export async function spawnUntilReady<T>(file: string, args: string[], options: ReadyOptions<T>): Promise<ReadyOutcome<T>> {
  let found: {value: T} | undefined
  let progressed = (): void => {}
  const child = await ManagedProcess.spawn(file, args, {
    env: options.env,
    onLine(line) {
      if (found) return
      const value = options.ready(line)
      if (value === undefined) return
      found = {value}
      progressed()
    },
  })
  options.onSpawn?.(child)

  let timer: NodeJS.Timeout | undefined
  const outcome = await new Promise<'ready' | 'exited' | 'timeout' | 'aborted'>((resolve) => {
    progressed = () => resolve('ready')
    child.exited.then(() => resolve('exited'))
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
    if (options.signal.aborted) resolve('aborted')
    options.signal.addEventListener('abort', () => resolve('aborted'), {once: true})
  })
  clearTimeout(timer)
  if (outcome === 'ready' && found) return {ready: true, process: child, value: found.value}

  const exit = await child.stop(options.stopGraceMs)
  return {ready: false, why: outcome === 'ready' ? 'exited' : outcome, exit, lastLines: child.lastLines()}
}

const QUOTED_LINES = 8
// A chatty program's banner (cloudflared's disclaimer alone is 600 characters) should not bury the message.
const QUOTED_LINE_CHARS = 160

/** The message, then the last lines a process printed under a heading, each cut to a readable length. */
export function withLastLines(message: string, heading: string, lines: string[]): string {
  const quoted = lines.slice(-QUOTED_LINES).map((l) => `  ${l.length > QUOTED_LINE_CHARS ? `${l.slice(0, QUOTED_LINE_CHARS)}…` : l}`)
  return quoted.length > 0 ? `${message}\n${heading}:\n${quoted.join('\n')}` : message
}
