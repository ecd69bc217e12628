/**
 * What dist/supervisor.js runs first. Password checks run in worker threads started from this same
 * file (proxy/password-checks.ts), so that the supervisor stays one file to load; a worker loads
 * only what checking needs, and the supervisor only what it needs.
 */
import {isMainThread} from 'node:worker_threads'

if (isMainThread) await import('./main.js')
else (await import('./proxy/password-worker.js')).answerPasswordChecks()
