import * as crypto from 'node:crypto'
import bcrypt from 'bcryptjs'
import {FailedLogins} from './failed-logins.js'
import type {PasswordChecker} from './password-checks.js'

/** Fixed, so that the password alone is the secret and the caller has one thing to keep. */
export const AUTH_USERNAME = 'tunnelctl'

/**
 * What the gate says to one request: let it through, ask for the password, or tell it to come back
 * later, because of its own failures, its endpoint's, or because too many checks are under way.
 */
export type GateVerdict = {kind: 'admitted'} | {kind: 'unauthorized'} | {kind: 'throttled'; retryAfter: number; who: 'visitor' | 'endpoint'} | {kind: 'busy'}

const ADMITTED: GateVerdict = {kind: 'admitted'}
const UNAUTHORIZED: GateVerdict = {kind: 'unauthorized'}
const BUSY: GateVerdict = {kind: 'busy'}

/**
 * Failed logins from all visitors of one endpoint within a minute before it checks no new
 * credential until the minute is over: a handful of people mistyping stay far below it, and many
 * addresses together get no more bcrypt runs out of it than that.
 */
const FAILURES_PER_ENDPOINT = 30
/** The one name in a gate's own table of failures: the endpoint's. */
const THIS_ENDPOINT = ''

/** 144 random bits as base64url: safe to paste into a URL or a shell unquoted. */
export function newPassword(): string {
  return crypto.randomBytes(18).toString('base64url')
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, 10)
}

/** Node 20.12 and later hash in one call, a microsecond cheaper than through a Hash object. */
const sha256: (text: string) => Buffer = crypto.hash ? (text) => crypto.hash('sha256', text, 'buffer') : (text) => crypto.createHash('sha256').update(text).digest()

/**
 * Basic auth for one endpoint. bcrypt is slow on purpose, so the Authorization header that verified
 * is remembered by its sha256 and later requests are compared with it in constant time instead:
 * clients send the very same header with every request, and comparing it whole spares taking it
 * apart. Concurrent requests with the same header share one verification. A visitor that keeps
 * sending wrong passwords is refused for a while before anything is checked, and so is every
 * credential but the remembered one once the endpoint as a whole had too many failures. A different
 * hash means a new gate, and so nothing remembered.
 */
export class BasicAuthGate {
  /** One is enough: a bcrypt hash admits one password, and a client spells its header one way. */
  private knownGood: Buffer | undefined
  /**
   * Verifications under way, keyed by the hex of the header's sha256. What the lookup's timing
   * could give away is about a digest of a header nobody has shown to be right yet.
   */
  private readonly verifying = new Map<string, Promise<boolean>>()
  private readonly failuresHere = new FailedLogins(FAILURES_PER_ENDPOINT)

  constructor(
    readonly hash: string,
    private readonly checks: PasswordChecker,
    private readonly failedLogins: FailedLogins,
  ) {}

  /**
   * `visitor` names who failed logins are held against: this endpoint and the visitor's address. It
   * is asked only when there are failures to look up or one to record, so that while nobody sends
   * wrong passwords, telling visitors apart costs a right one nothing. Everything but a bcrypt
   * verification answers at once rather than as a promise: the remembered credential is on the path
   * of every request, where a turn of the event loop shows in the proxy's throughput.
   */
  check(authorization: string | undefined, visitor: () => string): GateVerdict | Promise<GateVerdict> {
    // A browser asks without a credential first to learn that it needs one: that is no failed login.
    if (authorization === undefined) return UNAUTHORIZED
    // Before the credential is looked at, so that a throttled visitor costs nothing and learns nothing.
    let visitorName = this.failedLogins.holdsAny() ? visitor() : undefined
    const retryAfter = visitorName === undefined ? undefined : this.failedLogins.retryAfter(visitorName)
    if (retryAfter !== undefined) return {kind: 'throttled', retryAfter, who: 'visitor'}

    // Digests are always 32 bytes, so the comparison does not give away the header's length either.
    const digest = sha256(authorization)
    if (this.knownGood !== undefined && crypto.timingSafeEqual(this.knownGood, digest)) {
      if (visitorName !== undefined) this.failedLogins.forget(visitorName)
      return ADMITTED
    }

    // The remembered credential got in above: so do the endpoint's own users while it is under attack.
    const retryHereAfter = this.failuresHere.retryAfter(THIS_ENDPOINT)
    if (retryHereAfter !== undefined) return {kind: 'throttled', retryAfter: retryHereAfter, who: 'endpoint'}

    visitorName ??= visitor()
    const password = basicPassword(authorization)
    if (password === undefined) {
      this.recordFailure(visitorName)
      return UNAUTHORIZED
    }

    const key = digest.toString('hex')
    let verdict = this.verifying.get(key)
    if (!verdict) {
      verdict = this.verification(password, digest, key)
      // Not a failed login: nothing was checked, and the visitor may try again in a moment.
      if (!verdict) return BUSY
      // Counted as failed before bcrypt answers, so that a burst of different guesses sent at once
      // stops at the limits instead of running bcrypt for each; forgiven if it was right.
      this.recordFailure(visitorName)
    }

    const name = visitorName
    return verdict.then((ok) => {
      if (!ok) return UNAUTHORIZED
      this.failedLogins.forget(name)
      return ADMITTED
    })
  }

  private recordFailure(visitorName: string): void {
    this.failedLogins.record(visitorName)
    this.failuresHere.record(THIS_ENDPOINT)
  }

  /** Undefined when the checker is too busy to start one. A check that fails to run admits nobody. */
  private verification(password: string, digest: Buffer, key: string): Promise<boolean> | undefined {
    const started = this.checks.check(password, this.hash)
    if (!started) return undefined
    const verdict = started
      .catch(() => false)
      .then((ok) => {
        this.verifying.delete(key)
        if (ok) {
          this.knownGood = digest
          this.failuresHere.forgiveOne(THIS_ENDPOINT)
        }
        return ok
      })
    this.verifying.set(key, verdict)
    return verdict
  }
}

/** The password from `Basic base64(tunnelctl:password)`, or undefined for any other header. */
function basicPassword(authorization: string): string | undefined {
  const match = /^basic +([a-z0-9+/]+={0,2}) *$/i.exec(authorization)
  if (!match) return undefined

  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1 || decoded.slice(0, colon) !== AUTH_USERNAME) return undefined
  return decoded.slice(colon + 1)
}
