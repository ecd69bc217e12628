import {Command, ux} from '@oclif/core'
import {printJson, reportFailure} from './failure.js'
import {showUrl, type UrlWanted} from './show-url.js'

/** What every tunnelctl command shares: --json, and one way to fail (see failure.ts). */
export abstract class TunnelctlCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {code?: string; oclif?: {exit?: number}}): Promise<void> {
    // this.exit() works by throwing; that is not a failure to report.
    if (error.code === 'EEXIT') throw error
    // A parse that failed (our argument and flag parsers throw) was a parse: without this, oclif
    // warns outside production that the command never called this.parse.
    this.parsed = true
    reportFailure(error, this.jsonEnabled())
  }

  override logJson(json: unknown): void {
    printJson(json)
  }

  /**
   * Shows a spinner on stderr, saying what is awaited, until `work` settles: only for a person
   * watching (stderr a terminal), never in a script's output nor around a JSON document.
   */
  protected async waitingFor<T>(what: string, work: Promise<T>): Promise<T> {
    if (!process.stderr.isTTY || this.jsonEnabled()) return work
    ux.action.start(what)
    try {
      const result = await work
      ux.action.stop()
      return result
    } catch (error) {
      ux.action.stop('failed')
      throw error
    }
  }

  /** Writes to stderr unless --json is on: warnings must never spoil a JSON document on stdout. */
  protected warnUser(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`Warning: ${message}\n`)
  }

  /** Prints what the command says about its URL, then the QR code and the browser that --qr and --open ask for. */
  protected showUrl(text: string, url: string | null, wanted: UrlWanted): Promise<void> {
    return showUrl({log: (line) => this.log(line), warn: (message) => this.warnUser(message)}, text, url, wanted)
  }
}
