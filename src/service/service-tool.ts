import {TunnelctlError} from '../errors.js'
import {runCommand} from '../process/run.js'

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
  const result = await runCommand(file, args, {env, timeoutMs: TOOL_TIMEOUT_MS})
  if (result.notRun?.code === 'ENOENT') {
    throw new TunnelctlError('SERVICE_FAILED', `${file} was not found on PATH: the boot service needs it. Is this machine's service manager installed?`)
  }

  if (result.exitCode === undefined) throw new TunnelctlError('SERVICE_FAILED', `\`${[file, ...args].join(' ')}\` failed: ${result.failure}.`)
  return {exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr}
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
