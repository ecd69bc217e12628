import {writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {TunnelctlError} from '../../errors.js'
import {describeExit, ManagedProcess} from '../../supervisor/managed-process.js'
import {cloudflaredEnv, findCloudflared} from './cloudflared-binary.js'
import {failureHint, QuickTunnelOutput} from './quick-tunnel-output.js'

/** cloudflared finishes a graceful shutdown in 1–2 s when idle; past this it is killed. */
export const CLOUDFLARED_STOP_GRACE_MS = 5000

// Given as --config so that no ~/.cloudflared/config.yml (or /etc/cloudflared/…) is read: its ingress
// rules would override --url. Not empty, because cloudflared logs an empty config file as an error.
const ISOLATED_CONFIG = '# Written by tunnelctl for quick tunnels.\nno-autoupdate: true\n'

export interface QuickTunnelOptions {
  port: number
  timeoutMs: number
  /** Where to write the empty config that shields the tunnel from the user's ~/.cloudflared/config.yml. */
  configFile: string
  /** Aborting stops the process; the start rejects with the signal's reason. */
  signal: AbortSignal
  /** Called as soon as cloudflared runs, before it is up: whoever owns processes may want to know. */
  onSpawn?: (child: ManagedProcess) => void
}

export interface QuickTunnel {
  url: string
  process: ManagedProcess
}

/**
 * Runs `cloudflared tunnel --url http://localhost:<port>` and resolves once it has printed its
 * URL and registered a connection. On any failure the process is stopped before the promise rejects.
 */
export async function startQuickTunnel(options: QuickTunnelOptions): Promise<QuickTunnel> {
  const binary = await findCloudflared()
  await writeFile(options.configFile, ISOLATED_CONFIG, {mode: 0o600})
  const metricsPort = await findFreeLoopbackPort()
  const output = new QuickTunnelOutput()
  let progressed = (): void => {}
  const child = ManagedProcess.spawn(binary, quickTunnelArgs(options.port, metricsPort, options.configFile), {
    env: cloudflaredEnv(process.env),
    onLine(line) {
      if (output.push(line)) progressed()
    },
  })
  options.onSpawn?.(child)

  let timer: NodeJS.Timeout | undefined
  const outcome = await new Promise<'up' | 'exited' | 'timeout' | 'aborted'>((resolve) => {
    progressed = () => output.url && output.registered && resolve('up')
    child.exited.then(() => resolve('exited'))
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
    if (options.signal.aborted) resolve('aborted')
    options.signal.addEventListener('abort', () => resolve('aborted'), {once: true})
  })
  clearTimeout(timer)
  if (outcome === 'up') return {url: output.url as string, process: child}

  const exit = await child.stop(CLOUDFLARED_STOP_GRACE_MS)
  if (outcome === 'aborted') throw options.signal.reason
  const what =
    outcome === 'exited'
      ? `cloudflared exited with ${describeExit(exit)} before the tunnel was up.`
      : output.url
        ? `cloudflared printed ${output.url} but registered no connection within ${formatSeconds(options.timeoutMs)}; it was stopped.`
        : `cloudflared printed no tunnel URL within ${formatSeconds(options.timeoutMs)}; it was stopped. Raise the limit with --timeout.`
  throw new TunnelctlError('TUNNEL_FAILED', withLastLines(what, child.lastLines()))
}

function quickTunnelArgs(port: number, metricsPort: number, configFile: string): string[] {
  return [
    'tunnel',
    '--no-autoupdate',
    '--config',
    configFile,
    // Without --metrics every cloudflared takes the first free of 20241–20245, and the sixth fails.
    '--metrics',
    `127.0.0.1:${metricsPort}`,
    '--url',
    `http://localhost:${port}`,
  ]
}

const QUOTED_LINES = 8
// cloudflared's disclaimer alone is 600 characters; an error message should stay readable.
const QUOTED_LINE_CHARS = 160

function withLastLines(message: string, lines: string[]): string {
  const hint = failureHint(lines)
  const quoted = lines.slice(-QUOTED_LINES).map((l) => `  ${l.length > QUOTED_LINE_CHARS ? `${l.slice(0, QUOTED_LINE_CHARS)}…` : l}`)
  const tail = quoted.length > 0 ? `\ncloudflared's last lines:\n${quoted.join('\n')}` : ''
  return `${message}${hint ? ` ${hint}` : ''}${tail}`
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`
}

function findFreeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}
