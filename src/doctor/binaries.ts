import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {TunnelctlError} from '../errors.js'
import {findCloudflared} from '../providers/cloudflare/cloudflared-binary.js'
import {findTailscale, TAILSCALE_INSTALL_HELP} from '../providers/tailscale/tailscale-binary.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

const execFileAsync = promisify(execFile)
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
  let stdout: string
  try {
    stdout = (await execFileAsync(file, args, {timeout: VERSION_TIMEOUT_MS, encoding: 'utf8'})).stdout
  } catch (error) {
    return {id, status: 'problem', summary: `${file} is there but \`${command}\` failed: ${describeFailure(error)}`, fix}
  }

  const found = version.exec(stdout.trim())
  if (!found) return {id, status: 'problem', summary: `\`${command}\` printed no version: "${firstLine(stdout)}"`, fix}
  return {id, status: 'ok', summary: `${found[1]} (${file})`}
}

function describeFailure(error: unknown): string {
  const failure = error as {code?: unknown; killed?: boolean; stderr?: string; message: string}
  if (failure.killed) return `it gave no answer within ${VERSION_TIMEOUT_MS / 1000} s`
  // A number is its exit status; a string (EACCES, ENOEXEC) means it could not be run at all.
  if (typeof failure.code !== 'number') return failure.message
  const said = firstLine(failure.stderr ?? '')
  return `it exited with code ${failure.code}${said ? `: ${said}` : ''}`
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim())?.trim() ?? ''
}
