import type {ManagedProcess} from '../../process/managed-process.js'
import type {CloudflaredSources} from './cloudflared-binary.js'
import {formatSeconds, startCloudflared} from './cloudflared-process.js'
import {isRegisteredLine} from './quick-tunnel-output.js'

export interface NamedTunnelOptions {
  /** The tunnel token: it names the tunnel and holds its secret. */
  token: string
  /** Every request the tunnel carries goes to 127.0.0.1:<proxyPort>. */
  proxyPort: number
  configFile: string
  timeoutMs: number
  /** Where cloudflared is looked for: the caller's PATH; this process's own when undefined. */
  searchPath: string | undefined
  /** Where else cloudflared may be: the cloudflared.path setting, the installed copy. */
  cloudflared: CloudflaredSources
  /** Aborting stops the process; the start rejects with the signal's reason. */
  signal: AbortSignal
  onSpawn?: (child: ManagedProcess) => void
}

/**
 * Runs `cloudflared tunnel … run` for the tunnel the token names, and resolves once its first
 * connection is registered. The token goes in TUNNEL_TOKEN, which `tunnel run` reads as --token, so
 * that it never shows in ps.
 *
 * The ingress is one catch-all rule to the proxy, which routes by Host: whatever hostname the user
 * routes to this tunnel in DNS (a proxied `*.<domain>` CNAME to <tunnel id>.cfargotunnel.com) reaches
 * it, and a new endpoint needs no change at Cloudflare. That takes a locally-managed tunnel (made with
 * `cloudflared tunnel create`): one managed from the dashboard replaces this ingress with its own.
 */
export function startNamedTunnel(options: NamedTunnelOptions): Promise<ManagedProcess> {
  return startCloudflared({
    config: {
      file: options.configFile,
      content: `# Written by tunnelctl: every hostname routed to the tunnel goes to its proxy.\ningress:\n  - service: http://127.0.0.1:${options.proxyPort}\n`,
    },
    command: ['run'],
    env: {TUNNEL_TOKEN: options.token},
    timeoutMs: options.timeoutMs,
    searchPath: options.searchPath,
    cloudflared: options.cloudflared,
    signal: options.signal,
    onSpawn: options.onSpawn,
    isUp: isRegisteredLine,
    timeoutMessage: () =>
      `cloudflared registered no tunnel connection within ${formatSeconds(options.timeoutMs)}; it was stopped. Check cloudflare.token and that this machine reaches Cloudflare.`,
  })
}
