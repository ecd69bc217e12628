import {parentPort} from 'node:worker_threads'
import bcrypt from 'bcryptjs'

/** What the pool asks a worker: one check at a time. */
export interface CheckRequest {
  password: string
  hash: string
}

/**
 * The loop of a password worker: answers each request with whether the password matches the hash,
 * a boolean. Synchronous on purpose: this thread has nothing else to do, and the supervisor's
 * event loop is elsewhere.
 */
export function answerPasswordChecks(): void {
  const port = parentPort
  if (!port) throw new Error('password checks run in a worker thread')
  port.on('message', (request: unknown) => port.postMessage(matches(request)))
}

function matches(request: unknown): boolean {
  if (typeof request !== 'object' || request === null) return false
  const {password, hash} = request as Record<string, unknown>
  if (typeof password !== 'string' || typeof hash !== 'string') return false
  try {
    return bcrypt.compareSync(password, hash)
  } catch {
    return false
  }
}
