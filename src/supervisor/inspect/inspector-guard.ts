import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

/** 256 bits: guessing one over a loopback port is out of reach. */
const SECRET_BYTES = 32
/** URL tokens handed out and not yet used; an older one is forgotten. */
const MAX_UNUSED_TOKENS = 16

/** What the guard decided about one request. */
export type Verdict =
  /** Let in; with exchange, through a URL token that the cookie must now replace. */
  | {admit: true; exchange: boolean}
  /** Answered with this status and nothing else. */
  | {admit: false; status: 401 | 403}

/**
 * Who may use the inspector. Every local user can reach a loopback port, so everything needs a
 * secret. `tunnelctl inspect` gets a URL with a token in it; the first GET / with that token swaps it
 * for an HttpOnly, SameSite=Strict cookie that carries the session's own secret, and the token is spent.
 * It is spent because a URL does not stay private: opening it puts it in the browser's command line,
 * which other local users may read, and in its history.
 *
 * The Host must name the loopback address and the inspector's port, so that a page whose own name was
 * rebound to 127.0.0.1 is not let in; and a request another page made is refused, since SameSite
 * counts every port of 127.0.0.1 as the same site: the Origin and Sec-Fetch-Site a browser sends say
 * whose page made it, and a change (POST) must carry an Origin.
 */
export class InspectorGuard {
  readonly cookieName: string
  /** The cookie's value: lives only in this process's memory and in the browser. */
  private readonly session = secret()
  private readonly sessionDigest = digest(this.session)
  private unused: Buffer[] = []
  private readonly hosts: string[]

  constructor(readonly port: number) {
    // Named by port: two users' inspectors in one browser each keep their own.
    this.cookieName = `tunnelctl-inspector-${port}`
    this.hosts = [`127.0.0.1:${port}`, `localhost:${port}`]
  }

  /** A new URL token, good for one browser to come in once. */
  issue(): string {
    const token = secret()
    this.unused = [...this.unused, digest(token)].slice(-MAX_UNUSED_TOKENS)
    return token
  }

  judge(request: IncomingMessage, url: URL): Verdict {
    const fromUrl = request.method === 'GET' && url.pathname === '/' ? url.searchParams.get('token') : null
    // Checked first, so that without a secret every answer is the same bare 401.
    const admitted = fromUrl === null ? this.hasSession(request) : this.spend(fromUrl)
    if (!admitted) return {admit: false, status: 401}
    if (!this.hosts.includes(request.headers.host?.toLowerCase() ?? '')) return {admit: false, status: 403}
    if (!sameOrigin(request)) return {admit: false, status: 403}
    return {admit: true, exchange: fromUrl !== null}
  }

  /** The Set-Cookie that lets this browser in from now on: for its session, never readable by scripts. */
  cookie(): string {
    return `${this.cookieName}=${this.session}; Path=/; HttpOnly; SameSite=Strict`
  }

  private hasSession(request: IncomingMessage): boolean {
    const given = cookieValue(request.headers.cookie, this.cookieName)
    return given !== undefined && timingSafeEqual(digest(given), this.sessionDigest)
  }

  /** Whether the token is one handed out and unused; it is used now. Every one is compared, so the time taken says nothing of which. */
  private spend(token: string): boolean {
    const given = digest(token)
    const match = this.unused.map((candidate) => timingSafeEqual(candidate, given)).indexOf(true)
    if (match === -1) return false
    this.unused.splice(match, 1)
    return true
  }
}

function secret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url')
}

/** Compared as digests: timingSafeEqual needs equal lengths, and a digest's length says nothing of the secret's. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function sameOrigin(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site']
  // none: the user opened it (typed, a bookmark, `tunnelctl inspect`).
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const {origin} = request.headers
  if (origin !== undefined) return origin === `http://${request.headers.host?.toLowerCase()}`
  // Every browser sends Origin with a POST; one without it is no page's of ours.
  return request.method === 'GET'
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const at = pair.indexOf('=')
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim()
  }

  return undefined
}
