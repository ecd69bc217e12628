import envPaths from 'env-paths'
import {chmodSync, mkdirSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {badInput, TunnelctlError} from './errors.js'

/** Where every piece of tunnelctl state lives. One object, so client and supervisor cannot disagree. */
export interface Paths {
  /** config.json and the events log. */
  configDir: string
  /** The settings: 0600, they may hold a tunnel token. */
  configFile: string
  /** Socket, pid, lock and logs: private to the user (0700). */
  runtimeDir: string
  socket: string
  pidFile: string
  spawnLock: string
  /** Held by a supervisor while it binds the socket, or replaces a stale one. */
  socketLock: string
  supervisorLog: string
  eventsLog: string
  /** One JSON file per expose endpoint. */
  endpointsDir: string
  /** An empty cloudflared config, so a user's ~/.cloudflared/config.yml cannot hijack quick tunnels. */
  cloudflaredConfig: string
  /** The children the supervisor has running, for its successor after a hard kill. */
  childLedger: string
  /** Where `tunnelctl cloudflared install` puts cloudflared: not writable by other users. */
  binDir: string
  /** The cloudflared that install puts there. */
  installedCloudflared: string
}

// sun_path is 104 bytes on macOS and 108 on Linux, both including the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 103

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  // Absolute, so that commands run from other directories, and the supervisor, agree on it.
  const home = env.TUNNELCTL_HOME ? resolve(env.TUNNELCTL_HOME) : undefined
  const configDir = home ?? envPaths('tunnelctl', {suffix: ''}).config
  const runtimeDir = home ? join(home, 'run') : defaultRuntimeDir(env)
  const socket = join(runtimeDir, 'supervisor.sock')
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw badInput(
      `The control socket path ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit for unix sockets. ` +
        'Set TUNNELCTL_HOME to a shorter directory.',
    )
  }

  return {
    configDir,
    configFile: join(configDir, 'config.json'),
    runtimeDir,
    socket,
    pidFile: join(runtimeDir, 'supervisor.pid'),
    spawnLock: join(runtimeDir, 'spawn.lock'),
    socketLock: join(runtimeDir, 'socket.lock'),
    supervisorLog: join(runtimeDir, 'supervisor.log'),
    eventsLog: join(configDir, 'events.log'),
    endpointsDir: join(configDir, 'expose', 'endpoints'),
    cloudflaredConfig: join(runtimeDir, 'cloudflared.yml'),
    childLedger: join(runtimeDir, 'children.json'),
    binDir: join(configDir, 'bin'),
    installedCloudflared: join(configDir, 'bin', process.platform === 'win32' ? 'cloudflared.exe' : 'cloudflared'),
  }
}

function defaultRuntimeDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'tunnelctl')
  return join(tmpdir(), `tunnelctl-${process.getuid?.() ?? 'user'}`)
}

/** Creates the runtime dir 0700 and refuses one that another user owns: whoever owns it could drive our supervisor. */
export function ensureRuntimeDir(paths: Paths): void {
  mkdirSync(paths.configDir, {recursive: true, mode: 0o700})
  mkdirSync(paths.runtimeDir, {recursive: true, mode: 0o700})
  const stat = statSync(paths.runtimeDir)
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid) {
    throw new TunnelctlError(
      'SUPERVISOR_UNAVAILABLE',
      `${paths.runtimeDir} belongs to another user (uid ${stat.uid}). Remove it, or set TUNNELCTL_HOME to a directory of your own.`,
    )
  }

  if ((stat.mode & 0o077) !== 0) chmodSync(paths.runtimeDir, 0o700)
}
