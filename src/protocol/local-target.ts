/** A local server to forward to, as people write it on the command line: `3000`, `localhost:3000`, `https://localhost:8443`. */
import {badInput} from '../errors.js'

export type Scheme = 'http' | 'https'
export const SCHEMES: readonly Scheme[] = ['http', 'https']

/** A server on this machine, named by its port: whichever loopback address it listens on is found when connecting. */
export interface LocalTarget {
  port: number
  scheme: Scheme
}

/** Every form parseTarget takes, for messages and help. */
export const TARGET_FORMS = '3000, localhost:3000, 127.0.0.1:3000, [::1]:3000, http://localhost:3000 or https://localhost:8443'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
const DEFAULT_PORTS: Record<Scheme, number> = {http: 80, https: 443}

// scheme://, host (a bracketed IPv6 address or a name), :port, and whatever follows (path, query, fragment).
const FORM = /^(?:(?<scheme>[a-z][a-z\d+.-]*):\/\/)?(?<host>\[[\da-f:.]*\]|[a-z\d.-]+)(?::(?<port>[^/?#]*))?(?<rest>[/?#].*)?$/is

/**
 * Reads a target: a port alone, a loopback host and port, or an http(s) URL of one whose path is
 * empty or `/`. Anything else is refused with `accepted` (what to give instead) in the message.
 */
export function parseTarget(raw: string, accepted = `Give a local port as ${TARGET_FORMS}.`): LocalTarget {
  const refuse = (problem: string) => badInput(`${problem} ${accepted}`)
  if (/^\d+$/.test(raw)) return {port: checkedPort(raw, raw, refuse), scheme: 'http'}

  const form = FORM.exec(raw)?.groups
  // A "://" the pattern did not take as a scheme's is in a user name or a path: not a target either way.
  if (!form || (form.scheme === undefined && (form.port === undefined || raw.includes('://')))) {
    throw refuse(LOOPBACK_HOSTS.has(form?.host?.toLowerCase() ?? '') ? `"${raw}" has no port.` : `"${raw}" is not a target.`)
  }

  const scheme = (form.scheme ?? 'http').toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') throw refuse(`"${raw}" is not an http or https URL.`)
  if (!LOOPBACK_HOSTS.has(form.host.toLowerCase())) {
    throw refuse(`"${raw}" is not on this machine: tunnelctl forwards only to localhost, 127.0.0.1 or [::1].`)
  }

  const rest = form.rest ?? ''
  if (/[?#]/.test(rest)) throw refuse(`"${raw}" has a query or fragment: leave it out.`)
  if (rest !== '' && rest !== '/') throw refuse(`"${raw}" has a path: the whole server is forwarded, so give it without one.`)
  return {port: form.port === undefined ? DEFAULT_PORTS[scheme] : checkedPort(form.port, raw, refuse), scheme}
}

function checkedPort(text: string, raw: string, refuse: (problem: string) => Error): number {
  if (!/^\d+$/.test(text)) throw refuse(text === '' ? `"${raw}" has no port.` : `"${raw}" has no port: "${text}" is not a number.`)
  const port = text.length <= 5 ? Number(text) : Number.NaN
  if (!(port >= 1 && port <= 65_535)) throw refuse(`Port ${text} is out of range: use 1 to 65535.`)
  return port
}

/** How targets go on the wire and into files: the port alone for plain http, as every target was before https ones; a URL for https. */
export function formatTarget(target: LocalTarget): string {
  return target.scheme === 'https' ? localAddress(target) : String(target.port)
}

/** Where the server is, for messages: `localhost:3000`, or `https://localhost:8443` for https. */
export function localAddress({port, scheme}: {port: number; scheme?: Scheme}): string {
  return `${scheme === 'https' ? 'https://' : ''}localhost:${port}`
}

/** What to tell the user when the target is an https server, whose certificate nobody checks on the way to it. */
export function unverifiedCertificateWarning(target: {port: number; scheme?: Scheme}): string | undefined {
  if (target.scheme !== 'https') return undefined
  return `The certificate of ${localAddress(target)} is not verified (it is your own local server, usually self-signed): anything listening on that port is trusted.`
}
