import {TunnelctlError} from '../errors.js'

/**
 * One way to fail, for oclif's commands and the fast path alike: `Error: <message>` on stderr, or
 * {"error": {"code", "message"}} on stdout with --json, and exit status 2 for bad input (oclif's
 * parse errors included) and 1 for any other failure.
 */
export function reportFailure(error: Error & {oclif?: {exit?: number}}, json: boolean): void {
  const failure = toTunnelctlError(error)
  process.exitCode = failure.exitCode
  if (json) printJson({error: {code: failure.code, message: failure.message}})
  else process.stderr.write(`Error: ${failure.message}\n`)
}

export function printJson(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
}

function toTunnelctlError(error: Error & {oclif?: {exit?: number}}): TunnelctlError {
  if (error instanceof TunnelctlError) {
    // oclif wraps what a flag's parser throws in "Parsing --<flag>" and "See more help with --help": our message says it all.
    const wrapped = /^Parsing --\S+ \n\t(.*)\nSee more help with --help$/s.exec(error.message)
    return wrapped ? new TunnelctlError(error.code, wrapped[1]) : error
  }

  // oclif's own parse errors (missing argument, unknown flag, bad flag value) carry exit 2.
  if (error.oclif?.exit === 2) {
    // Their messages run over several lines ("Missing 1 required arg:", "port  local port", "See more help…"): one line reads better.
    const lines = error.message
      .split('\n')
      .map((line) => sayExclusive(line.trim().replace(/\s{2,}/, ': ')))
      .filter((line, i, all) => line && !/^(See more help|The following errors occurred)/.test(line) && all.indexOf(line) === i)
    return new TunnelctlError('BAD_INPUT', `${lines.join(' ').replace(/\.$/, '')}. See --help for usage.`)
  }

  return new TunnelctlError('INTERNAL', error.message)
}

const EXCLUSIVE = /^--([\w-]+)=.* cannot also be provided when using --([\w-]+)$/

/** oclif says it twice, once from each flag, with values no one typed ("--auth=true"): once, as typed. */
function sayExclusive(line: string): string {
  const flags = EXCLUSIVE.exec(line)
  return flags ? `--${[flags[1], flags[2]].sort().join(' and --')} cannot be given together: give one of them` : line
}
