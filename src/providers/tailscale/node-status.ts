/** What tunnelctl reads of `tailscale status --json` (ipnstate.Status). */
export interface NodeStatus {
  backendState: string
  /** Self.DNSName without its trailing dot; empty when the node has none (logged out, MagicDNS off). */
  domain: string
  /** Where to log in, when the daemon has started a login. */
  authUrl: string
}

/** The status in `tailscale status --json`'s stdout, or undefined when it holds none. */
export function parseNodeStatus(stdout: string): NodeStatus | undefined {
  let status: unknown
  try {
    status = JSON.parse(stdout)
  } catch {
    return undefined
  }

  if (typeof status !== 'object' || status === null) return undefined
  const {BackendState, Self, AuthURL} = status as {BackendState?: unknown; Self?: {DNSName?: unknown} | null; AuthURL?: unknown}
  if (typeof BackendState !== 'string') return undefined
  return {
    backendState: BackendState,
    domain: typeof Self?.DNSName === 'string' ? Self.DNSName.replace(/\.$/, '') : '',
    authUrl: typeof AuthURL === 'string' ? AuthURL : '',
  }
}

/** Why this node cannot serve now, and what to do; undefined when it can. */
export function whyNodeCannotServe(status: NodeStatus): string | undefined {
  switch (status.backendState) {
    case 'Running':
      return status.domain
        ? undefined
        : 'This node has no MagicDNS name, which tailscale serve needs. Turn on MagicDNS and HTTPS certificates for the tailnet at https://login.tailscale.com/admin/dns.'
    case 'NeedsLogin':
      return `Tailscale is logged out. Log in with \`tailscale up\`${status.authUrl ? ` (or open ${status.authUrl})` : ''}, then try again.`
    case 'NeedsMachineAuth':
      return 'This machine is waiting for a tailnet admin to approve it at https://login.tailscale.com/admin/machines; try again once it is.'
    case 'Stopped':
      return 'Tailscale is stopped. Start it with `tailscale up`, then try again.'
    case 'Starting':
      return 'Tailscale is still starting; try again in a moment.'
    default:
      return `Tailscale is in state ${status.backendState || '(none)'}, not Running. Run \`tailscale up\`, then try again.`
  }
}
