import {setTimeout as delay} from 'node:timers/promises'
import {TunnelctlError} from '../../errors.js'
import {runCommand} from '../../process/run.js'
import {envWithSearchPath} from '../find-executable.js'
import {type NodeStatus, parseNodeStatus} from './node-status.js'
import {parseServeConfig, type ServeConfig} from './serve-config.js'

// serve and funnel may wait on the control server (a certificate, or a feature to be enabled in the
// admin console, which they wait for without end); everything else answers at once.
export const TAILSCALE_TIMEOUT_MS = 15_000
const BUSY = /Another client is changing the serve config/
const BUSY_ATTEMPTS = 5
const BUSY_DELAY_MS = 200
// Printed on stderr before any output when the CLI and the daemon are different versions.
const VERSION_WARNING = /^Warning: client version /
const QUOTED_LINES = 8

export interface CliResult {
  ok: boolean
  stdout: string
  stderr: string
  timedOut: boolean
}

/** The tailscale CLI at one path, run with the PATH it was found in. */
export class TailscaleCli {
  constructor(
    readonly binary: string,
    private readonly searchPath: string | undefined,
  ) {}

  private async run(args: string[]): Promise<CliResult> {
    const result = await runCommand(this.binary, args, {timeoutMs: TAILSCALE_TIMEOUT_MS, env: envWithSearchPath(this.searchPath)})
    if (result.notRun) throw new TunnelctlError('TUNNEL_FAILED', `Could not run ${this.binary}: ${result.notRun.message}`)
    return {ok: !result.failure, stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut}
  }

  /** Runs a command that changes the serve config, again while another client is changing it too. */
  async change(args: string[]): Promise<CliResult> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.run(args)
      if (result.ok || !BUSY.test(result.stderr) || attempt === BUSY_ATTEMPTS) return result
      await delay(BUSY_DELAY_MS * attempt)
    }
  }

  /** `tailscale status --json`; throws PROVIDER_UNAVAILABLE when the daemon cannot be asked. */
  async status(): Promise<NodeStatus> {
    // Without peers: a large tailnet's would be megabytes, and only Self is read.
    const result = await this.run(['status', '--json', '--peers=false'])
    if (!result.ok) {
      const said = result.timedOut ? `it gave no answer within ${TAILSCALE_TIMEOUT_MS / 1000} s` : `"${firstLine(result.stderr)}"`
      throw new TunnelctlError(
        'PROVIDER_UNAVAILABLE',
        `tailscale cannot reach its daemon: ${said}. Start Tailscale (the app, or \`sudo systemctl start tailscaled\`), then try again.`,
      )
    }

    const status = parseNodeStatus(result.stdout)
    if (!status) throw new TunnelctlError('PROVIDER_UNAVAILABLE', `\`${this.binary} status --json\` printed no status: ${quote(result.stdout)}`)
    return status
  }

  /** `tailscale serve status --json`: {} when nothing is served. */
  async serveConfig(): Promise<ServeConfig> {
    const result = await this.run(['serve', 'status', '--json'])
    const config = result.ok ? parseServeConfig(result.stdout) : undefined
    if (!config) throw new TunnelctlError('TUNNEL_FAILED', `Could not read the node's serve config (\`tailscale serve status --json\`): ${quote(result.stderr || result.stdout)}`)
    return config
  }
}

/** What a person needs of the CLI's output: no version warning, no blank lines, no more than a screenful. */
export function quote(output: string): string {
  const lines = meaningfulLines(output)
  return lines.length === 0 ? '(no output)' : lines.slice(0, QUOTED_LINES).join('\n')
}

function firstLine(output: string): string {
  return meaningfulLines(output)[0] ?? '(no output)'
}

function meaningfulLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !VERSION_WARNING.test(line))
}
