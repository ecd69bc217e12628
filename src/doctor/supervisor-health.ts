import {access, readFile} from 'node:fs/promises'
import {findSupervisor} from '../client/connect.js'
import {SupervisorNotAnswering} from '../client/supervisor-reply.js'
import {isLockStale, stuckLockClaim} from '../lock-file.js'
import type {Paths} from '../paths.js'
import {isRunning} from '../process/process-alive.js'
import {commandLine} from '../process/process-command-line.js'
import type {SupervisorStatus} from '../protocol/supervisor.js'
import {uptimeSince} from '../render/uptime.js'
import {SUPERVISOR_ENTRY} from '../supervisor-launch.js'
import {VERSION} from '../version.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

/** `silent`: something takes requests on the socket and does not answer them in time. */
type Probe = {state: 'running'; status: SupervisorStatus} | {state: 'absent'} | {state: 'failed'; reason: string} | {state: 'silent'; reason: string}

/** What the pid file names: a live supervisor, or what a dead one left. */
type PidFile =
  | {kind: 'absent'}
  | {kind: 'unreadable'; reason: string}
  | {kind: 'dead' | 'supervisor'; pid: number}
  | {kind: 'other'; pid: number; command: string}

const SHOWN_COMMAND_CHARS = 60

/**
 * Whether a supervisor answers, and of which version; a supervisor that runs but cannot be reached;
 * and what one that did not exit cleanly left behind (socket, pid file, spawn lock). Asks the
 * socket and never spawns; reports what is stale and never removes it.
 */
export async function checkSupervisor(paths: Paths): Promise<Check[]> {
  const probe = await probeSupervisor(paths)
  const pidFile = await readPidFile(paths.pidFile)
  // Nothing answers, yet the last supervisor to start still runs: its socket is gone, and with it every way to stop it.
  // A supervisor that takes requests and never answers: `supervisor stop` ends it by its pid.
  const health =
    probe.state === 'absent' && pidFile.kind === 'supervisor'
      ? unreachableSupervisor(pidFile.pid, paths)
      : probe.state === 'silent' && pidFile.kind === 'supervisor'
        ? silentSupervisor(pidFile.pid, probe.reason)
        : supervisorCheck(probe, paths)
  return [health, ...(await staleFiles(paths, probe, pidFile))]
}

async function probeSupervisor(paths: Paths): Promise<Probe> {
  try {
    const found = await findSupervisor(paths)
    return found ? {state: 'running', status: found.status} : {state: 'absent'}
  } catch (error) {
    if (error instanceof SupervisorNotAnswering) return {state: 'silent', reason: `${error.request} got no reply within ${error.waitedMs / 1000}s`}
    return {state: 'failed', reason: (error as Error).message}
  }
}

function supervisorCheck(probe: Probe, paths: Paths): Check {
  if (probe.state === 'absent') return {id: 'supervisor', status: 'ok', summary: 'not running; `tunnelctl supervisor start` starts it'}
  if (probe.state === 'failed' || probe.state === 'silent') {
    return {
      id: 'supervisor',
      status: 'problem',
      summary: `something listens on ${paths.socket} but does not answer as a supervisor: ${probe.reason}`,
      fix: `See \`tunnelctl supervisor logs\`; if the socket is held by something else, end what holds it (\`lsof ${shellWord(paths.socket)}\`).`,
    }
  }

  const {status} = probe
  const endpoints = status.endpoints ?? 0
  const holds = `${count(status.tunnels, 'tunnel')} and ${count(endpoints, 'endpoint')}`
  if (status.version === VERSION) {
    return {id: 'supervisor', status: 'ok', summary: `running: pid ${status.pid}, tunnelctl ${status.version}, up ${uptimeSince(status.startedAt)}, ${holds}`}
  }

  const versions = `the running supervisor (pid ${status.pid}) is tunnelctl ${status.version} and this is ${VERSION}`
  // As connectSupervisor does: one that holds nothing is replaced by the next command, one that holds something is refused.
  if (status.tunnels === 0 && endpoints === 0) {
    return {id: 'supervisor', status: 'warn', summary: `${versions}; it holds nothing, so the next command that changes something replaces it`, fix: 'tunnelctl supervisor stop'}
  }

  return {
    id: 'supervisor',
    status: 'problem',
    summary: `${versions}; it holds ${holds}, so commands refuse to use it`,
    fix: 'tunnelctl supervisor stop (it stops its tunnels; endpoints come back with the new supervisor)',
  }
}

function unreachableSupervisor(pid: number, paths: Paths): Check {
  return {
    id: 'supervisor',
    status: 'problem',
    summary: `pid ${pid}, named by ${paths.pidFile}, is a tunnelctl supervisor, but nothing answers on ${paths.socket}: no command can reach it or stop what it runs`,
    fix: `kill ${pid} (it stops what it runs, then exits)`,
  }
}

function silentSupervisor(pid: number, reason: string): Check {
  return {
    id: 'supervisor',
    status: 'problem',
    summary: `pid ${pid} is a tunnelctl supervisor that takes requests and does not answer them: ${reason}`,
    fix: 'tunnelctl supervisor stop (it ends a supervisor that does not answer by its pid: SIGTERM, then SIGKILL)',
  }
}

async function readPidFile(file: string): Promise<PidFile> {
  let text: string
  try {
    text = (await readFile(file, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {kind: 'absent'}
    return {kind: 'unreadable', reason: `cannot be read: ${(error as Error).message}`}
  }

  const pid = Number(text)
  if (!/^\d+$/.test(text) || pid <= 0) return {kind: 'unreadable', reason: `holds ${JSON.stringify(text.slice(0, 20))}, not a pid`}
  const command = isRunning(pid) ? await commandLine(pid) : undefined
  if (command === undefined) return {kind: 'dead', pid}
  if (command.includes(SUPERVISOR_ENTRY)) return {kind: 'supervisor', pid}
  return {kind: 'other', pid, command}
}

async function staleFiles(paths: Paths, probe: Probe, pidFile: PidFile): Promise<Check[]> {
  const stale: Check[] = []
  // With a supervisor still running behind it, starting another is not the fix: ending that one is, and it takes the socket path along.
  if (probe.state === 'absent' && pidFile.kind !== 'supervisor' && (await exists(paths.socket))) {
    stale.push({
      id: 'stale-files',
      status: 'problem',
      summary: `${paths.socket} is left by a supervisor that did not exit cleanly: nothing listens on it`,
      fix: 'tunnelctl supervisor start (the supervisor it starts replaces the socket and ends what the old one left running)',
    })
  }

  const pidProblem = describePidFile(pidFile)
  if (pidProblem) stale.push({id: 'stale-files', status: 'problem', summary: `${paths.pidFile} ${pidProblem}`, fix: `rm ${shellWord(paths.pidFile)}`})
  if (isLockStale(paths.spawnLock)) {
    stale.push({
      id: 'stale-files',
      status: 'problem',
      summary: `${paths.spawnLock} is left by a command that died or hung while starting a supervisor`,
      fix: `rm ${shellWord(paths.spawnLock)}`,
    })
  }

  for (const claim of [stuckLockClaim(paths.spawnLock), stuckLockClaim(paths.socketLock)]) {
    if (!claim) continue
    stale.push({
      id: 'stale-files',
      status: 'problem',
      summary: `${claim} is left by a process killed while it took over a lock: no supervisor can start until it is gone`,
      fix: `rm ${shellWord(claim)}`,
    })
  }

  return stale.length > 0 ? stale : [{id: 'stale-files', status: 'ok', summary: 'no socket, pid file or spawn lock left behind'}]
}

function describePidFile(pidFile: PidFile): string | undefined {
  switch (pidFile.kind) {
    case 'unreadable':
      return pidFile.reason
    case 'dead':
      return `names pid ${pidFile.pid}, which is not running: a supervisor that was killed left it`
    case 'other': {
      const {command} = pidFile
      const shown = command.length > SHOWN_COMMAND_CHARS ? `${command.slice(0, SHOWN_COMMAND_CHARS)}…` : command
      return `names pid ${pidFile.pid}, which is now another process (${shown}): a supervisor that was killed left it`
    }

    default:
      return undefined
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
