import {Settings} from '../config/settings.js'
import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {runCommand} from '../process/run.js'
import {type FoundCloudflared, findCloudflared} from '../providers/cloudflare/cloudflared-binary.js'
import {findTailscale, TAILSCALE_INSTALL_HELP} from '../providers/tailscale/tailscale-binary.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

// Printing a version is instant; one that takes longer is hung, and would hang every tunnel too.
const VERSION_TIMEOUT_MS = 10_000

const FROM: Record<FoundCloudflared['from'], string> = {
  'cloudflared.path': 'set as cloudflared.path',
  PATH: 'on PATH',
  installed: 'installed by tunnelctl cloudflared install',
}

/** cloudflared as a start from this shell would find it, where it was found, and the version it says it is. */
export async function checkCloudflared(paths: Paths): Promise<Check> {
  const settings = new Settings(paths)
  // A settings file that cannot be read is the settings check's to report; here it holds no cloudflared.path.
  const configured = (): string | undefined => {
    try {
      return settings.get('cloudflared.path') as string | undefined
    } catch {
      return undefined
    }
  }

  let found: FoundCloudflared
  try {
    found = await findCloudflared(undefined, {configured, installed: paths.installedCloudflared})
  } catch (error) {
    if (!(error instanceof TunnelctlError)) throw error
    const summary = configured() === undefined ? 'not found; tunnels and the cloudflare provider need it' : 'cloudflared.path is not an executable file'
    return {id: 'cloudflared', status: 'warn', summary, fix: error.message}
  }

  return checkVersion('cloudflared', found.file, ['--version'], /^cloudflared version (\S+)/, FROM[found.from])
}

/** tailscale as its provider would find it (the macOS app's CLI first), and its client version. */
export async function checkTailscale(): Promise<Check> {
  const file = await findTailscale()
  if (!file) return {id: 'tailscale', status: 'warn', summary: 'not found; only the tailscale provider needs it', fix: TAILSCALE_INSTALL_HELP}
  // The first line is the client's version; a daemon of another version is only a warning on stderr.
  return checkVersion('tailscale', file, ['version'], /^(\d+\.\d+\.\d+\S*)/)
}

/** `where` says how the file was found, when there is more than one way. */
async function checkVersion(id: string, file: string, args: string[], version: RegExp, where?: string): Promise<Check> {
  const command = [file, ...args].map(shellWord).join(' ')
  const fix = `Run \`${command}\` to see what is wrong, and reinstall ${id} if it is broken.`
  const {stdout, stderr, failure, exitCode} = await runCommand(file, args, {timeoutMs: VERSION_TIMEOUT_MS})
  if (failure) {
    const said = exitCode === undefined ? '' : firstLine(stderr)
    return {id, status: 'problem', summary: `${file} is there but \`${command}\` failed: ${failure}${said ? `: ${said}` : ''}`, fix}
  }

  const found = version.exec(stdout.trim())
  if (!found) return {id, status: 'problem', summary: `\`${command}\` printed no version: "${firstLine(stdout)}"`, fix}
  return {id, status: 'ok', summary: `${found[1]} (${file}${where ? `, ${where}` : ''})`}
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim())?.trim() ?? ''
}
