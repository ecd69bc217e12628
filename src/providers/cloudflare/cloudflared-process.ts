import {writeFileAtomically} from '../../atomic-file.js'
import {TunnelctlError} from '../../errors.js'
import {findFreeLoopbackPort} from '../../ports.js'
import {describeExit, type ManagedProcess} from '../../process/managed-process.js'
import {spawnUntilReady, withLastLines} from '../../process/spawn-until-ready.js'
import {envWithSearchPath} from '../find-executable.js'
import {type CloudflaredSources, cloudflaredEnv, findCloudflared} from './cloudflared-binary.js'
import {failureHint} from './quick-tunnel-output.js'

/** cloudflared finishes a graceful shutdown in 1–2 s when idle; past this it is killed. */
export const CLOUDFLARED_STOP_GRACE_MS = 5000

/**
 * The metrics ports of the cloudflareds this process runs, until each exits. A port is free when the
 * OS names it, but a cloudflared binds it only once it has started, and meanwhile the OS may name the
 * same port for the next start: with many tunnels starting at once, one of them would fail.
 */
const metricsPortsInUse = new Set<number>()

export interface CloudflaredStart {
  /**
   * Written (0600) and given as --config, so that no ~/.cloudflared/config.yml (or /etc/cloudflared/…)
   * is read: its ingress rules would override ours.
   */
  config: {file: string; content: string}
  /** What follows the flags every run gets: `--url …` for a quick tunnel, `run` for a named one. */
  command: string[]
  /** Added to the environment, which is cleared of the user's TUNNEL_* variables first. */
  env?: NodeJS.ProcessEnv
  /** Where cloudflared is looked for, and the PATH it runs with: the caller's; this process's own when undefined. */
  searchPath: string | undefined
  /** Where else cloudflared may be: the cloudflared.path setting, the installed copy. */
  cloudflared: CloudflaredSources
  timeoutMs: number
  /** Aborting stops the process; the start rejects with the signal's reason. */
  signal: AbortSignal
  /** Called as soon as cloudflared runs, before it is up: whoever owns processes may want to know. */
  onSpawn?: (child: ManagedProcess) => void
  /** Fed every line cloudflared prints; true once it is up. */
  isUp(line: string): boolean
  /** Why it is not up once timeoutMs has passed. */
  timeoutMessage(): string
}

/**
 * Runs `cloudflared tunnel --no-autoupdate --config … --metrics … <command>` and resolves once isUp
 * says so. On any failure the process is stopped before the promise rejects.
 */
export async function startCloudflared(options: CloudflaredStart): Promise<ManagedProcess> {
  const {file: binary} = await findCloudflared(options.searchPath, options.cloudflared)
  await writeFileAtomically(options.config.file, options.config.content)
  const metricsPort = await reserveMetricsPort()
  const args = [
    'tunnel',
    '--no-autoupdate',
    '--config',
    options.config.file,
    // Without --metrics every cloudflared takes the first free of 20241–20245, and the sixth fails.
    '--metrics',
    `127.0.0.1:${metricsPort}`,
    ...options.command,
  ]
  const outcome = await spawnUntilReady(binary, args, {
    env: {...cloudflaredEnv(envWithSearchPath(options.searchPath)), ...options.env},
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    stopGraceMs: CLOUDFLARED_STOP_GRACE_MS,
    onSpawn(child) {
      void child.exited.then(() => metricsPortsInUse.delete(metricsPort))
      options.onSpawn?.(child)
    },
    ready: (line) => options.isUp(line) || undefined,
  })
  if (outcome.ready) return outcome.process
  if (outcome.why === 'aborted') throw options.signal.reason

  const what =
    outcome.why === 'exited' ? `cloudflared exited with ${describeExit(outcome.exit)} before the tunnel was up.` : options.timeoutMessage()
  const hint = failureHint(outcome.lastLines)
  throw new TunnelctlError('TUNNEL_FAILED', withLastLines(hint ? `${what} ${hint}` : what, "cloudflared's last lines", outcome.lastLines))
}

async function reserveMetricsPort(): Promise<number> {
  let port = await findFreeLoopbackPort()
  while (metricsPortsInUse.has(port)) port = await findFreeLoopbackPort()
  metricsPortsInUse.add(port)
  return port
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`
}
