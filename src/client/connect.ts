/**
 * How a command reaches its supervisor, top to bottom: probe the socket; if nothing answers, take
 * the spawn lock, spawn a detached supervisor (or have the boot service's manager start it) and wait
 * for its socket; then check versions, and replace a supervisor of another version when it holds
 * nothing. Every wait is bounded. Only commands that change something start one: those that read ask
 * runningSupervisor, or running-supervisor.ts, which never do.
 */
import {closeSync, openSync, renameSync, statSync} from 'node:fs'
import type {Readable} from 'node:stream'
import {setTimeout as delay} from 'node:timers/promises'
import {TunnelctlError} from '../errors.js'
import {tryAcquireLock} from '../lock-file.js'
import {ensureRuntimeDir, type Paths, resolvePaths} from '../paths.js'
import {exitedWithin} from '../process/process-alive.js'
import {spawnDetached} from '../process/run.js'
import type {SupervisorStatus} from '../protocol/supervisor.js'
import {READY_FD_ENV} from '../protocol/wire.js'
import {bootService, isInstalled} from '../service/boot-service.js'
import {SUPERVISOR_ENTRY, SUPERVISOR_NODE_FLAGS} from '../supervisor-launch.js'
import {VERSION} from '../version.js'
import {refuseOtherVersionHolding} from './running-supervisor.js'
import {readLogTail} from './supervisor-log.js'
import {NotListening} from './socket-request.js'
import {SupervisorClient} from './supervisor-client.js'

const CONNECT_DEADLINE_MS = 15_000
const POLL_MS = 20
const LOG_ROTATE_BYTES = 1024 * 1024

/** A client of a running supervisor of this version, spawning or replacing one as needed: for commands that change something. */
export async function connectSupervisor(paths: Paths = resolvePaths()): Promise<SupervisorClient> {
  return (await startSupervisor(paths)).client
}

/** As connectSupervisor, and says whether this call is the one that started it (`tunnelctl supervisor start`). */
export async function startSupervisor(paths: Paths = resolvePaths()): Promise<{client: SupervisorClient; started: boolean}> {
  ensureRuntimeDir(paths)
  const client = new SupervisorClient(paths)
  let started = false
  const deadline = Date.now() + CONNECT_DEADLINE_MS
  while (Date.now() < deadline) {
    const status = await probe(client)
    if (status?.version === VERSION) return {client, started}
    if (status) {
      await replaceOtherVersion(client, status)
      continue
    }

    const release = tryAcquireLock(paths.spawnLock)
    if (!release) {
      // Someone else is spawning it: wait for their supervisor rather than start a second one.
      await delay(POLL_MS)
      continue
    }

    try {
      if (!(await probe(client))) {
        await launchSupervisor(client, paths)
        started = true
      }
    } finally {
      await release()
    }
  }

  throw new TunnelctlError(
    'SUPERVISOR_UNAVAILABLE',
    `No supervisor answered on ${paths.socket} within ${CONNECT_DEADLINE_MS / 1000}s. See \`tunnelctl supervisor logs\` and \`tunnelctl doctor\`.`,
  )
}

/** A client of the supervisor if one is running, of whatever version, without ever starting one. */
export async function findSupervisor(paths: Paths = resolvePaths()): Promise<{client: SupervisorClient; status: SupervisorStatus} | undefined> {
  const client = new SupervisorClient(paths)
  const status = await probe(client)
  return status ? {client, status} : undefined
}

/**
 * A client of the running supervisor of this version, or undefined when none runs: for commands that
 * only read, which never start one. One of another version that holds nothing has nothing to show.
 */
export async function runningSupervisor(paths: Paths = resolvePaths()): Promise<SupervisorClient | undefined> {
  const found = await findSupervisor(paths)
  if (!found) return undefined
  if (found.status.version === VERSION) return found.client
  refuseOtherVersionHolding(found.status)
  return undefined
}

/** Waits for a supervisor that a service manager was asked to start; its status, or undefined when none answered in time. */
export async function awaitSupervisor(paths: Paths = resolvePaths()): Promise<SupervisorStatus | undefined> {
  const client = new SupervisorClient(paths)
  const deadline = Date.now() + CONNECT_DEADLINE_MS
  while (Date.now() < deadline) {
    const status = await probe(client)
    if (status) return status
    await delay(POLL_MS)
  }

  return undefined
}

/** Waits until the supervisor with this pid has gone, after a shutdown. */
export async function waitForExit(pid: number, timeoutMs = CONNECT_DEADLINE_MS): Promise<void> {
  if (await exitedWithin(pid, timeoutMs)) return
  throw new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor (pid ${pid}) did not exit within ${timeoutMs / 1000}s.`)
}

async function probe(client: SupervisorClient): Promise<SupervisorStatus | undefined> {
  try {
    return await client.status()
  } catch (error) {
    if (error instanceof NotListening) return undefined
    throw error
  }
}

async function replaceOtherVersion(client: SupervisorClient, status: SupervisorStatus): Promise<void> {
  refuseOtherVersionHolding(status)
  await client.shutdown()
  await waitForExit(status.pid)
}

/**
 * With the boot service installed, its manager runs the supervisor and restarts it when it fails: ask
 * the manager rather than spawn one it does not know of, and wait for the socket.
 */
async function launchSupervisor(client: SupervisorClient, paths: Paths): Promise<void> {
  const service = bootService(paths)
  if (!service || !isInstalled(service)) return spawnSupervisor(client, paths)
  rotateLog(paths.supervisorLog)
  await service.start()
  if (await awaitSupervisor(paths)) return
  throw new TunnelctlError(
    'SUPERVISOR_UNAVAILABLE',
    `${service.name} was started, but no supervisor answered on ${paths.socket} within ${CONNECT_DEADLINE_MS / 1000}s. ` +
      `See \`tunnelctl supervisor logs\` and \`${service.statusCommand}\`.`,
  )
}

async function spawnSupervisor(client: SupervisorClient, paths: Paths): Promise<void> {
  rotateLog(paths.supervisorLog)
  const log = openSync(paths.supervisorLog, 'a', 0o600)
  // The daemon outlives this command: it must not hold on to the command's working directory, nor
  // read a relative TUNNELCTL_HOME against another one.
  const env = {...process.env, [READY_FD_ENV]: '3', ...(process.env.TUNNELCTL_HOME && {TUNNELCTL_HOME: paths.configDir})}
  const child = await spawnDetached(process.execPath, [...SUPERVISOR_NODE_FLAGS, SUPERVISOR_ENTRY], {env, cwd: paths.runtimeDir, logFd: log}).finally(() =>
    closeSync(log),
  )

  await readyOrGone(child.readyPipe)

  const deadline = Date.now() + CONNECT_DEADLINE_MS
  while (Date.now() < deadline) {
    if (await probe(client)) return
    if (child.hasExited()) {
      // It may have lost a race to a supervisor that is now listening: the caller probes again.
      if (await probe(client)) return
      const tail = readLogTail(paths.supervisorLog, 10)
      throw new TunnelctlError(
        'SUPERVISOR_UNAVAILABLE',
        `The supervisor exited while starting. Its log (${paths.supervisorLog}) ends with:\n${tail.map((l) => `  ${l}`).join('\n')}`,
      )
    }

    await delay(POLL_MS)
  }
}

/**
 * Waits until the supervisor closes its end of the pipe: it does once it listens, and its exit does
 * too. Polling the socket instead costs half a poll interval on every cold start.
 */
async function readyOrGone(pipe: Readable): Promise<void> {
  const timer = setTimeout(() => pipe.destroy(), CONNECT_DEADLINE_MS)
  pipe.resume()
  await new Promise((resolve) => pipe.once('close', resolve))
  clearTimeout(timer)
}

function rotateLog(path: string): void {
  try {
    if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`)
  } catch {}
}
