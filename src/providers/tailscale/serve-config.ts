/**
 * The node's serve config as `tailscale serve status --json` prints it (ipn.ServeConfig): `null` when
 * nothing is configured, else maps keyed by port ("443") and by "<dns name>:<port>".
 */
export interface ServeConfig {
  TCP?: Record<string, {HTTPS?: boolean; HTTP?: boolean; TCPForward?: string; TerminateTLS?: string}>
  Web?: Record<string, {Handlers?: Record<string, {Proxy?: string; Path?: string; Text?: string}>}>
  AllowFunnel?: Record<string, boolean>
  /** Configs of `tailscale serve` commands running in the foreground, by session. */
  Foreground?: Record<string, ServeConfig>
}

/** The config in stdout, {} for `null`, or undefined when stdout holds none. */
export function parseServeConfig(stdout: string): ServeConfig | undefined {
  try {
    const config: unknown = JSON.parse(stdout)
    if (config === null) return {}
    return typeof config === 'object' && !Array.isArray(config) ? (config as ServeConfig) : undefined
  } catch {
    return undefined
  }
}

function hostPort(domain: string, port: number): string {
  return `${domain}:${port}`
}

/** What serves the port, for a person to read; undefined when nothing does. */
export function describePort(config: ServeConfig, port: number): string | undefined {
  const found: string[] = []
  for (const [hp, web] of Object.entries(config.Web ?? {})) {
    if (!hp.endsWith(`:${port}`)) continue
    for (const [mount, handler] of Object.entries(web.Handlers ?? {})) {
      found.push(`https://${hp}${mount} → ${handler.Proxy ?? handler.Path ?? 'text'}`)
    }
  }

  const tcp = config.TCP?.[port]
  if (tcp?.TCPForward) found.push(`TCP forwarded to ${tcp.TCPForward}`)
  if (Object.values(config.Foreground ?? {}).some((fg) => fg.TCP?.[port])) found.push('a `tailscale serve` running in the foreground')
  const funnelled = Object.keys(config.AllowFunnel ?? {}).some((hp) => hp.endsWith(`:${port}`))
  if (found.length === 0 && (tcp || funnelled)) found.push(`an entry for port ${port} with no handler`)
  return found.length > 0 ? found.join('; ') : undefined
}

/**
 * The port serves exactly what `tailscale serve --https=<port> <target>` makes: https://<domain>/
 * proxied to target, nothing else on the port; and Funnel is on for it only when funnel is.
 */
export function servesOnly(config: ServeConfig, domain: string, port: number, target: string, funnel?: boolean): boolean {
  const hp = hostPort(domain, port)
  const handlers = config.Web?.[hp]?.Handlers ?? {}
  const otherHosts = Object.keys(config.Web ?? {}).some((key) => key !== hp && key.endsWith(`:${port}`))
  return (
    config.TCP?.[port]?.HTTPS === true &&
    Object.keys(handlers).length === 1 &&
    handlers['/']?.Proxy === target &&
    !otherHosts &&
    !Object.values(config.Foreground ?? {}).some((fg) => fg.TCP?.[port]) &&
    (funnel === undefined || (config.AllowFunnel?.[hp] === true) === funnel)
  )
}
