/**
 * Entry point of the supervisor process. The client spawns it detached, with stdout and stderr
 * going to the supervisor log, and waits for the socket to answer.
 */
import {closeSync, writeSync} from 'node:fs'
import {format} from 'node:util'
import {ensureRuntimeDir, resolvePaths} from '../paths.js'
import {READY_FD_ENV} from '../protocol/wire.js'
import {NO_IDLE_EXIT_ARG} from '../supervisor-launch.js'
import {AlreadyRunning} from './control-server.js'
import {Supervisor} from './supervisor.js'

// The supervisor log is read after the fact: every line says when. Lines are written straight to
// the log file: a line that cannot be written (disk full, file size limit) is lost, and the next one
// is tried again. process.stderr would instead emit the failure as an 'error' event, an uncaught
// exception, and write nothing more.
for (const [method, fd] of [
  ['log', 1],
  ['error', 2],
] as const) {
  console[method] = (...args: unknown[]) => {
    try {
      writeSync(fd, `${new Date().toISOString()} ${format(...args)}\n`)
    } catch {}
  }
}

// Taken out of the environment before any child could inherit it.
const readyFd = Number(process.env[READY_FD_ENV]) >= 3 ? Number(process.env[READY_FD_ENV]) : undefined
delete process.env[READY_FD_ENV]

// Everything the supervisor creates (socket, pid file, logs) is for this user alone.
process.umask(0o077)
const paths = resolvePaths()
ensureRuntimeDir(paths)
const supervisor = new Supervisor(paths, {idleExit: !process.argv.includes(NO_IDLE_EXIT_ARG)})

// Installed before start(): from its first child on, no way out may skip stopping the children.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void supervisor.shutdown(`signal ${signal}`))
}

// Detached already; a closing terminal must not take the tunnels with it.
process.on('SIGHUP', () => {})
// Over a file size limit a write fails with EFBIG, which every writer handles, and Node ignores the
// SIGXFSZ that comes with it. when-exit (conf's atomically loads it) hooks that signal and re-raises
// it, which would kill the supervisor and orphan its children. The supervisor reads settings without
// conf and never writes them, so it does not load conf today; this listener keeps a signal from ever
// ending it if that changes.
process.on('SIGXFSZ', () => {})
process.on('uncaughtException', (error) => {
  console.error('uncaught exception:', error)
  process.exitCode = 1
  void supervisor.shutdown(`internal error: ${error.message}`)
})

try {
  await supervisor.start()
} catch (error) {
  if (!(error instanceof AlreadyRunning)) throw error
  console.log(`${error.message}; exiting`)
  process.exit(0)
}

console.log(`supervisor ${process.pid} listening on ${paths.socket}`)
// The command that spawned us waits for this pipe to close rather than polling the socket (client/connect.ts).
if (readyFd !== undefined) {
  try {
    writeSync(readyFd, 'ready\n')
    closeSync(readyFd)
  } catch {}
}
