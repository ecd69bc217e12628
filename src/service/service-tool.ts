import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {TunnelctlError} from '../errors.js'

const execFileAsync = promisify(execFile)

/** What systemctl or launchctl said. */
export interface ToolResult {
  exitCode: number
  stdout: string
  stderr: string
}

// Enabling or stopping a unit waits for the supervisor to start or to stop its children; past this it is hung.
const TOOL_TIMEOUT_MS = 60_000

/** Runs a service manager's command line tool and returns what it said, whatever its exit status. */
export async function runServiceTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  try {
    const {stdout, stderr} = await execFileAsync(file, args, {env, timeout: TOOL_TIMEOUT_MS, encoding: 'utf8'})
    return {exitCode: 0, stdout, stderr}
  } catch (error) {
    const failure = error as {code?: unknown; killed?: boolean; stdout?: string; stderr?: string; message: string}
    const command = [file, ...args].join(' ')
    if (failure.code === 'ENOENT') {
      throw new TunnelctlError('SERVICE_FAILED', `${file} was not found on PATH: the boot service needs it. Is this machine's service manager installed?`)
    }

    if (failure.killed) throw new TunnelctlError('SERVICE_FAILED', `\`${command}\` gave no answer within ${TOOL_TIMEOUT_MS / 1000} s.`)
    // A number is its exit status; a string (EACCES, ENOEXEC) means it could not be run at all.
    if (typeof failure.code !== 'number') throw new TunnelctlError('SERVICE_FAILED', `\`${command}\` could not be run: ${failure.message}`)
    return {exitCode: failure.code, stdout: failure.stdout ?? '', stderr: failure.stderr ?? ''}
  }
}

/** Runs the tool and fails with what it said unless it succeeds. */
export async function mustRunServiceTool(file: string, args: string[], env: NodeJS.ProcessEnv, advice: string): Promise<ToolResult> {
  const result = await runServiceTool(file, args, env)
  if (result.exitCode !== 0) throw toolFailure(file, args, result, advice)
  return result
}

export function toolFailure(file: string, args: string[], result: ToolResult, advice: string): TunnelctlError {
  const said = (result.stderr || result.stdout).trim()
  return new TunnelctlError('SERVICE_FAILED', `\`${[file, ...args].join(' ')}\` failed (exit ${result.exitCode})${said ? `: ${said}` : ''}. ${advice}`)
}
