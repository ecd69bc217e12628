import {stat} from 'node:fs/promises'
import {isAbsolute} from 'node:path'
import {badInput} from '../errors.js'
import {isValidPort} from '../ports.js'

/** What an endpoint publishes: a local port, or an HTTP server on a unix socket. */
export type ExposeTarget = {kind: 'port'; port: number} | {kind: 'unix'; path: string}

const USAGE = 'Give a port (3000) or a unix socket as unix:/path/to/app.sock.'

/** `3000` or `unix:/run/app.sock`; a relative socket path is the caller's to resolve first. */
export function parseExposeTarget(raw: string): ExposeTarget {
  if (/^\d+$/.test(raw)) {
    const port = Number(raw)
    if (!isValidPort(port)) throw badInput(`Port ${raw} is out of range: use 1 to 65535.`)
    return {kind: 'port', port}
  }

  if (raw.startsWith('unix:')) {
    const path = raw.slice('unix:'.length)
    if (!isAbsolute(path)) throw badInput(`The socket path in "${raw}" must be absolute. ${USAGE}`)
    return {kind: 'unix', path}
  }

  throw badInput(`"${raw}" is not a target. ${USAGE}`)
}

/**
 * Refuses a unix: target whose path is there and is not a socket (a file, a directory): nothing will
 * ever listen on it. A path that is not there yet passes, as a port with nothing listening does: apps
 * create their socket when they start, which may well be after the endpoint (or the supervisor) is up.
 */
export async function refuseNonSocketTarget(target: ExposeTarget): Promise<void> {
  if (target.kind !== 'unix') return
  const stats = await stat(target.path).catch(() => undefined)
  if (stats && !stats.isSocket()) {
    throw badInput(`${target.path} is ${stats.isDirectory() ? 'a directory' : 'a file'}, not a unix socket. Give the socket your app listens on, as unix:/path/to/app.sock.`)
  }
}

export function formatExposeTarget(target: ExposeTarget): string {
  return target.kind === 'port' ? String(target.port) : `unix:${target.path}`
}
