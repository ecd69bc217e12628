import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {exitedWithin} from '../process/process-alive.js'
import {commandLine} from '../process/process-command-line.js'
import {SUPERVISOR_ENTRY} from '../supervisor-launch.js'
import {readSupervisorPid} from './supervisor-pid.js'

// Long enough for a supervisor whose event loop still turns to stop its children (each with its own
// grace period) and exit by itself.
const TERM_GRACE_MS = 15_000
const KILL_WAIT_MS = 5000

/**
 * Ends a supervisor that takes requests and does not answer them, by the pid in its pid file:
 * SIGTERM first, which makes it stop its children and exit if its event loop still turns; SIGKILL
 * when it has not gone after a grace period. What a killed supervisor ran is ended by the next one,
 * from its ledger. Only a process whose command line is the supervisor's is signalled: a pid file
 * can outlive its process, and its pid be taken by another.
 */
export async function endUnansweringSupervisor(paths: Paths): Promise<{pid: number; signal: 'SIGTERM' | 'SIGKILL'}> {
  const pid = readSupervisorPid(paths.pidFile)
  const command = pid === undefined ? undefined : await commandLine(pid)
  if (pid === undefined || !command?.includes(SUPERVISOR_ENTRY)) {
    throw new TunnelctlError(
      'SUPERVISOR_UNAVAILABLE',
      `Something takes connections on ${paths.socket} and does not answer, and ${paths.pidFile} names no running supervisor, so nothing was stopped. ` +
        `Find what holds the socket (\`lsof ${paths.socket}\`) and end it; see \`tunnelctl doctor\`.`,
    )
  }

  process.kill(pid, 'SIGTERM')
  if (await exitedWithin(pid, TERM_GRACE_MS)) return {pid, signal: 'SIGTERM'}
  process.kill(pid, 'SIGKILL')
  if (await exitedWithin(pid, KILL_WAIT_MS)) return {pid, signal: 'SIGKILL'}
  throw new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor (pid ${pid}) did not exit even on SIGKILL within ${KILL_WAIT_MS / 1000}s.`)
}
