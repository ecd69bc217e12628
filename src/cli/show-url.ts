import {Flags} from '@oclif/core'
import {badInput} from '../errors.js'
import {findOnPath} from '../providers/find-executable.js'

/** `--qr` and `--open`, for the commands that print a public URL. */
export const showUrlFlags = {
  qr: Flags.boolean({description: 'also print the URL as a QR code, to try it on a phone'}),
  open: Flags.boolean({description: 'also open the URL in the default browser'}),
}

export interface UrlWanted {
  qr?: boolean
  open?: boolean
}

export interface UrlOutput {
  log(text: string): void
  warn(message: string): void
}

/**
 * Refuses --qr and --open with --json (exit 2), before anything starts: a QR code would spoil the
 * JSON document, and a browser is for a person, --json for a script. Said, where ignoring the flag
 * would leave whoever typed it wondering. (oclif's `exclusive` would do it, but garbles the usage line.)
 */
export function refuseUrlFlagsWithJson(wanted: UrlWanted, json: boolean): void {
  const flag = wanted.qr ? '--qr' : wanted.open ? '--open' : undefined
  if (json && flag) throw badInput(`${flag} is for a person at a terminal, --json for a script: leave out one of them.`)
}

/**
 * Prints what a command says about its URL, then, as asked, the URL as a QR code, and opens it in the
 * browser. A null URL (the wire's word for none yet) gets the text alone.
 */
export async function showUrl(out: UrlOutput, text: string, url: string | null, wanted: UrlWanted): Promise<void> {
  out.log(text)
  if (url === null) return
  if (wanted.qr) out.log(await qrCode(url))
  if (wanted.open) await openInBrowser(url, out)
}

async function qrCode(url: string): Promise<string> {
  // Loaded only when asked for, as is open below: most runs never draw a QR code.
  const {default: QRCode} = await import('qrcode')
  // Black on white in colours of its own, whatever the terminal's: phones read dark modules on a light ground.
  return QRCode.toString(url, {type: 'terminal', small: true})
}

/** Never fails the command: the URL is up whether or not a browser shows it. */
async function openInBrowser(url: string, out: UrlOutput): Promise<void> {
  const opener = await browserOpener()
  if (!opener) {
    out.warn(`No browser to open ${url} in: xdg-open is not on PATH. Open it yourself, or use --qr.`)
    return
  }

  try {
    const {default: open} = await import('open')
    // Detached, its output ignored: the browser outlives this command, which does not wait for it.
    await open(url, opener)
  } catch (error) {
    out.warn(`Could not open ${url} in a browser (${(error as Error).message}). Open it yourself.`)
  }
}

/**
 * How open should open the URL, or undefined when nothing can. On Linux, the desktop's own xdg-open
 * from PATH: open's bundled copy, used otherwise, fails silently where there is no desktop (a
 * server over ssh), where we can say so. Elsewhere, and in WSL (Windows' browser, through
 * PowerShell), open's own way.
 */
async function browserOpener(): Promise<{app?: {name: string}} | undefined> {
  if (process.platform !== 'linux' || process.env.WSL_DISTRO_NAME) return {}
  const xdgOpen = await findOnPath('xdg-open')
  return xdgOpen ? {app: {name: xdgOpen}} : undefined
}
