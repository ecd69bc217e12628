import {Command} from '@oclif/core'
import {printJson, reportFailure} from './failure.js'

/** What every tunnelctl command shares: --json, and one way to fail (see failure.ts). */
export abstract class TunnelctlCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {code?: string; oclif?: {exit?: number}}): Promise<void> {
    // this.exit() works by throwing; that is not a failure to report.
    if (error.code === 'EEXIT') throw error
    reportFailure(error, this.jsonEnabled())
  }

  override logJson(json: unknown): void {
    printJson(json)
  }

  /** Writes to stderr unless --json is on: warnings must never spoil a JSON document on stdout. */
  protected warnUser(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`Warning: ${message}\n`)
  }
}
