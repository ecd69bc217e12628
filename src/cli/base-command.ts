import {Command} from '@oclif/core'
import {TunnelctlError} from '../errors.js'

/**
 * What every tunnelctl command shares: --json, and one way to fail. An error is printed as
 * `Error: <message>` on stderr, or as {"error": {"code", "message"}} on stdout with --json, and the
 * exit status is 2 for bad input (oclif's parse errors included) and 1 for any other failure.
 */
export abstract class TunnelctlCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {code?: string; oclif?: {exit?: number}}): Promise<void> {
    // this.exit() works by throwing; that is not a failure to report.
    if (error.code === 'EEXIT') throw error
    const failure = toTunnelctlError(error)
    process.exitCode = failure.exitCode
    if (this.jsonEnabled()) {
      this.logJson({error: {code: failure.code, message: failure.message}})
    } else {
      process.stderr.write(`Error: ${failure.message}\n`)
    }
  }

  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Writes to stderr unless --json is on: warnings must never spoil a JSON document on stdout. */
  protected warnUser(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`Warning: ${message}\n`)
  }
}

function toTunnelctlError(error: Error & {oclif?: {exit?: number}}): TunnelctlError {
  if (error instanceof TunnelctlError) return error
  // oclif's own parse errors (missing argument, unknown flag, bad flag value) carry exit 2.
  if (error.oclif?.exit === 2) {
    // Their messages run over several lines ("Missing 1 required arg:", "port  local port", "See more help…"): one line reads better.
    const lines = error.message
      .split('\n')
      .map((line) => line.trim().replace(/\s{2,}/, ': '))
      .filter((line) => line && !line.startsWith('See more help'))
    return new TunnelctlError('BAD_INPUT', `${lines.join(' ')}. See --help for usage.`)
  }

  return new TunnelctlError('INTERNAL', error.message)
}
