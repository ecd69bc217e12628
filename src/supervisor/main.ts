/**
 * Entry point of the supervisor process. The client spawns it detached, with stdout and stderr
 * going to the supervisor log, and waits for the socket to answer.
 */
import {ensureRuntimeDir, resolvePaths} from '../paths.js'
import {AlreadyRunning, Supervisor} from './supervisor.js'

// The supervisor log is read after the fact: every line says when.
for (const method of ['log', 'error'] as const) {
  const write = console[method].bind(console)
  console[method] = (...args: unknown[]) => write(new Date().toISOString(), ...args)
}

// Everything the supervisor creates (socket, pid file, logs) is for this user alone.
process.umask(0o077)
const paths = resolvePaths()
ensureRuntimeDir(paths)
const supervisor = new Supervisor(paths)

// Installed before start(): from its first child on, no way out may skip stopping the children.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void supervisor.shutdown(`signal ${signal}`))
}

// Detached already; a closing terminal must not take the tunnels with it.
process.on('SIGHUP', () => {})
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
