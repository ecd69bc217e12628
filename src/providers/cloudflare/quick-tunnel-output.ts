/**
 * Reads a quick tunnel's URL and readiness from cloudflared's log lines. cloudflared prints the URL
 * as a row of an INF box; its disclaimer and its failure lines carry https:// addresses too
 * (`failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": …`), so only a box
 * row that follows the box's "Your quick Tunnel has been created" row counts.
 */
const LOG_LINE = /^\S+ (INF|WRN|ERR|DBG|FTL) (.*)$/
const BOX_HEADER = /^\|\s+Your quick Tunnel has been created!/
const BOX_URL_ROW = /^\|\s+(https:\/\/([a-z0-9]+(?:-[a-z0-9]+)*)\.trycloudflare\.com)\/?\s+\|$/
const REGISTERED = /^Registered tunnel connection\b/
// Hostnames of TryCloudflare's own services, never a tunnel's.
const RESERVED_SUBDOMAINS = new Set(['api', 'www'])

export class QuickTunnelOutput {
  url: string | undefined
  /** cloudflared registered a connection with the edge: the URL now leads somewhere. */
  registered = false
  private inBox = false

  /** Feeds one line; returns true when it changed what is known. */
  push(line: string): boolean {
    const message = infoMessage(line)
    if (message === undefined) return false
    if (BOX_HEADER.test(message)) {
      this.inBox = true
      return false
    }

    if (this.inBox && this.url === undefined) {
      const url = parseBoxUrlRow(message)
      if (url) {
        this.url = url
        this.inBox = false
        return true
      }
    }

    if (!this.registered && REGISTERED.test(message)) {
      this.registered = true
      return true
    }

    return false
  }
}

/** cloudflared registered a connection with the edge: for a named tunnel, which has no URL to print, the sign that it is up. */
export function isRegisteredLine(line: string): boolean {
  const message = infoMessage(line)
  return message !== undefined && REGISTERED.test(message)
}

function infoMessage(line: string): string | undefined {
  const match = LOG_LINE.exec(line.trimEnd())
  return match && match[1] === 'INF' ? match[2].trim() : undefined
}

function parseBoxUrlRow(message: string): string | undefined {
  const match = BOX_URL_ROW.exec(message)
  if (!match || RESERVED_SUBDOMAINS.has(match[2])) return undefined
  return match[1]
}

/** A hint for the failures users meet most, recognised from cloudflared's last lines. */
export function failureHint(lines: string[]): string | undefined {
  const text = lines.join('\n')
  if (/429 Too Many Requests|error code: 1015/.test(text)) {
    return 'TryCloudflare is rate limiting this machine (HTTP 429). Wait a few minutes before starting more quick tunnels.'
  }

  if (/failed to request quick Tunnel/.test(text)) {
    return 'cloudflared could not reach api.trycloudflare.com. Check the internet connection, DNS and any proxy, then try again.'
  }

  if (/Provided Tunnel token is not valid/.test(text)) {
    return 'cloudflare.token is not a tunnel token. Copy it again (`cloudflared tunnel token <tunnel>` prints it) and set it with `tunnelctl config set cloudflare.token <token>`.'
  }

  if (/Error opening metrics server listener/.test(text)) {
    return 'cloudflared could not open its metrics port. Try again; tunnelctl picks a new one each time.'
  }

  return undefined
}
