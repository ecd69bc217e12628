import {TunnelctlError} from '../errors.js'
import {runCommand} from '../process/run.js'
import {findCloudflared} from '../providers/cloudflare/cloudflared-binary.js'
import {findTailscale, TAILSCALE_INSTALL_HELP} from '../providers/tailscale/tailscale-binary.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

// Printing a version is instant; one that takes longer is hung, and would hang every tunnel too.
const VERSION_TIMEOUT_MS = 10_000

/** cloudflared as the supervisor would find it, and the version it says it is. */
export async function checkCloudflared(): Promise<Check> {
  let file: string
  try {
    file = await findCloudflared()
  } catch (error) {
    if (!(error instanceof TunnelctlError)) throw error
    return {id: 'cloudflared', status: 'warn', summary: 'not found on PATH; tunnels and the cloudflare provider need it', fix: error.message}
  }

  return checkVersion('cloudflared', file, ['--version'], /^cloudflared version (\S+)/)
}

/** tailscale as its provider would find it (the macOS app's CLI first), and its client version. */
export async function checkTailscale(): Promise<Check> {
  const file = await findTailscale()
  if (!file) return {id: 'tailscale', status: 'warn', summary: 'not found; only the tailscale provider needs it', fix: TAILSCALE_INSTALL_HELP}
  // The first line is the client's version; a daemon of another version is only a warning on stderr.
  return checkVersion('tailscale', file, ['version'], /^(\d+\.\d+\.\d+\S*)/)
}

async function checkVersion(id: string, file: string, args: string[], version: RegExp): Promise<Check> {
  const command = [file, ...args].map(shellWord).join(' ')
  const fix = `Run \`${command}\` to see what is wrong, and reinstall ${id} if it is broken.`
  const {stdout, stderr, failure, exitCode} = await runCommand(file, args, {timeoutMs: VERSION_TIMEOUT_MS})
  if (failure) {
    const said = exitCode === undefined ? '' : firstLine(stderr)
    return {id, status: 'problem', summary: `${file} is there but \`${command}\` failed: ${failure}${said ? `: ${said}` : ''}`, fix}
  }

  const found = version.exec(stdout.trim())
  if (!found) return {id, status: 'problem', summary: `\`${command}\` printed no version: "${firstLine(stdout)}"`, fix}
  return {id, status: 'ok', summary: `${found[1]} (${file})`}
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim())?.trim() ?? ''
}
