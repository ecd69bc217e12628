import {createHash, randomBytes} from 'node:crypto'
import bcrypt from 'bcryptjs'

/** Fixed, so that the password alone is the secret and the caller has one thing to keep. */
export const AUTH_USERNAME = 'tunnelctl'

/** Enough for a handful of browsers and scripts; an attacker cycling credentials only evicts, never grows. */
const MAX_REMEMBERED = 100

export type VerifyPassword = (password: string, hash: string) => Promise<boolean>

/** 144 random bits as base64url: safe to paste into a URL or a shell unquoted. */
export function newPassword(): string {
  return randomBytes(18).toString('base64url')
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, 10)
}

/**
 * Basic auth for one endpoint. bcrypt is slow on purpose, so a header that verified is remembered by
 * its sha256 and later requests carrying it skip bcrypt. Concurrent requests with the same header share
 * one verification. A different hash means a new gate, and so nothing remembered.
 */
export class BasicAuthGate {
  private readonly remembered = new Map<string, Promise<boolean>>()

  constructor(
    readonly hash: string,
    private readonly verify: VerifyPassword,
  ) {}

  admits(authorization: string | undefined): Promise<boolean> {
    const password = authorization === undefined ? undefined : basicPassword(authorization)
    if (authorization === undefined || password === undefined) return Promise.resolve(false)

    const key = createHash('sha256').update(authorization).digest('hex')
    const known = this.remembered.get(key)
    if (known) {
      // Most recently used goes last, so eviction drops the longest unused.
      this.remembered.delete(key)
      this.remembered.set(key, known)
      return known
    }

    const verdict = this.verify(password, this.hash).catch(() => false)
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!)
    this.remembered.set(key, verdict)
    void verdict.then((ok) => {
      if (!ok && this.remembered.get(key) === verdict) this.remembered.delete(key)
    })
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
