import {execFile} from 'node:child_process'
import {TunnelctlError} from '../errors.js'

/** What systemctl or launchctl said. */
export interface ToolResult {
  exitCode: number
  stdout: string
  stderr: string
}

// Enabling or stopping a unit waits for the supervisor to start or to stop its children; past this it is hung.
const TOOL_TIMEOUT_MS = 60_000

/** Runs a service manager's command line tool and returns what it said, whatever its exit status. */
export function runServiceTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, {env, timeout: TOOL_TIMEOUT_MS, encoding: 'utf8'}, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code
      if (code === 'ENOENT') {
        reject(new TunnelctlError('SERVICE_FAILED', `${file} was not found on PATH: the boot service needs it. Is this machine's service manager installed?`))
        return
      }

      if (error && (error as {killed?: boolean}).killed) {
        reject(new TunnelctlError('SERVICE_FAILED', `\`${[file, ...args].join(' ')}\` gave no answer within ${TOOL_TIMEOUT_MS / 1000} s.`))
        return
      }

      if (error && typeof code !== 'number') {
        reject(new TunnelctlError('SERVICE_FAILED', `\`${[file, ...args].join(' ')}\` could not be run: ${error.message}`))
        return
      }

      resolve({exitCode: typeof code === 'number' ? code : 0, stdout, stderr})
    })
  })
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
