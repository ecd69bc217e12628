import type {ManagedProcess} from '../../process/managed-process.js'
import type {Scheme} from '../../protocol/local-target.js'
import type {CloudflaredSources} from './cloudflared-binary.js'
import {formatSeconds, startCloudflared} from './cloudflared-process.js'
import {QuickTunnelOutput} from './quick-tunnel-output.js'

export {CLOUDFLARED_STOP_GRACE_MS} from './cloudflared-process.js'

// Not empty, because cloudflared logs an empty config file as an error.
const ISOLATED_CONFIG = '# Written by tunnelctl for quick tunnels.\nno-autoupdate: true\n'

export interface QuickTunnelOptions {
  port: number
  /** What the local server speaks, http when absent: cloudflared does not verify an https one's certificate, which is usually self-signed. */
  scheme?: Scheme
  timeoutMs: number
  /** Where cloudflared is looked for: the caller's PATH; this process's own when undefined. */
  searchPath: string | undefined
  /** Where else cloudflared may be: the cloudflared.path setting, the installed copy. */
  cloudflared: CloudflaredSources
  /** Where to write the config that shields the tunnel from the user's ~/.cloudflared/config.yml; one file serves every quick tunnel. */
  configFile: string
  /** Aborting stops the process; the start rejects with the signal's reason. */
  signal: AbortSignal
  /** Called as soon as cloudflared runs, before it is up: whoever owns processes may want to know. */
  onSpawn?: (child: ManagedProcess) => void
  /** What the user can do when no URL comes in time, if anything. */
  timeoutHint?: string
}

export interface QuickTunnel {
  url: string
  process: ManagedProcess
}

/**
 * Runs `cloudflared tunnel --url http://localhost:<port>` (`--url https://localhost:<port>
 * --no-tls-verify` for https) and resolves once it has printed its URL and registered a connection.
 * On any failure the process is stopped before the promise rejects.
 */
export async function startQuickTunnel(options: QuickTunnelOptions): Promise<QuickTunnel> {
  const output = new QuickTunnelOutput()
  const child = await startCloudflared({
    config: {file: options.configFile, content: ISOLATED_CONFIG},
    command: options.scheme === 'https' ? ['--url', `https://localhost:${options.port}`, '--no-tls-verify'] : ['--url', `http://localhost:${options.port}`],
    timeoutMs: options.timeoutMs,
    searchPath: options.searchPath,
    cloudflared: options.cloudflared,
    signal: options.signal,
    onSpawn: options.onSpawn,
    isUp: (line) => output.push(line) && output.url !== undefined && output.registered,
    timeoutMessage: () =>
      output.url
        ? `cloudflared printed ${output.url} but registered no connection within ${formatSeconds(options.timeoutMs)}; it was stopped.`
        : `cloudflared printed no tunnel URL within ${formatSeconds(options.timeoutMs)}; it was stopped.${options.timeoutHint ? ` ${options.timeoutHint}` : ''}`,
  })
  return {url: output.url as string, process: child}
}
