import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import type {CheckRequest} from './password-worker.js'

/** What a Basic auth gate needs to check a password, whoever runs the check. */
export interface PasswordChecker {
  /**
   * Starts checking `password` against the bcrypt `hash`, or answers undefined at once when too many
   * checks are running and waiting already. The promise rejects when the check could not be made.
   */
  check(password: string, hash: string): Promise<boolean> | undefined
  /** Ends every worker; checks still waiting reject. */
  close(): Promise<void>
}

export interface PasswordCheckLimits {
  /** Worker threads at most, each running one check at a time. */
  workers: number
  /** Checks that may wait for a worker; one more is turned away. */
  waiting: number
}

/** One core is left to the event loop, which every request and control command needs. */
const PASSWORD_CHECK_LIMITS: PasswordCheckLimits = {workers: Math.max(1, Math.min(2, availableParallelism() - 1)), waiting: 16}

interface PendingCheck {
  request: CheckRequest
  resolve: (ok: boolean) => void
  reject: (error: Error) => void
}

/**
 * bcrypt off the event loop: a few worker threads, started when the first check comes, each given
 * one check at a time, and a bounded line of checks waiting for them. A worker that dies is not
 * replaced at once but when the next check needs it, and the check it was running rejects: it is
 * never taken for a match.
 */
export class PasswordChecks implements PasswordChecker {
  private readonly idle: Worker[] = []
  /** Each running worker and the check it was given. */
  private readonly running = new Map<Worker, PendingCheck>()
  private readonly waiting: PendingCheck[] = []
  private live = 0
  private closed = false

  /**
   * `script` is the file a worker runs: one that calls answerPasswordChecks in a worker thread, as
   * the supervisor's entry does.
   */
  constructor(
    private readonly script: string | URL,
    private readonly limits: PasswordCheckLimits = PASSWORD_CHECK_LIMITS,
  ) {}

  check(password: string, hash: string): Promise<boolean> | undefined {
    if (this.closed || this.running.size + this.waiting.length >= this.limits.workers + this.limits.waiting) return undefined
    return new Promise((resolve, reject) => {
      this.waiting.push({request: {password, hash}, resolve, reject})
      this.dispatch()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const check of this.waiting.splice(0)) check.reject(new Error('the proxy is closing'))
    await Promise.all([...this.idle, ...this.running.keys()].map((worker) => worker.terminate()))
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.live < this.limits.workers ? this.start() : undefined)
      if (!worker) return
      const check = this.waiting.shift()!
      this.running.set(worker, check)
      worker.postMessage(check.request)
    }
  }

  private start(): Worker {
    const worker = new Worker(this.script)
    this.live++
    // The proxy's sockets keep the supervisor alive, never a worker waiting for work.
    worker.unref()
    worker.on('message', (answer: unknown) => this.answered(worker, answer))
    // The 'exit' that follows an error does what has to be done.
    worker.on('error', () => {})
    worker.on('exit', () => this.lost(worker))
    return worker
  }

  private answered(worker: Worker, answer: unknown): void {
    const check = this.running.get(worker)
    if (!check) return
    this.running.delete(worker)
    if (typeof answer === 'boolean') check.resolve(answer)
    else check.reject(new Error('a password worker answered something other than a boolean'))
    this.idle.push(worker)
    this.dispatch()
  }

  private lost(worker: Worker): void {
    this.live--
    const idleAt = this.idle.indexOf(worker)
    if (idleAt !== -1) this.idle.splice(idleAt, 1)
    const check = this.running.get(worker)
    this.running.delete(worker)
    check?.reject(new Error('the password worker stopped during the check'))
    if (!this.closed) this.dispatch()
  }
}
