import {stat} from 'node:fs/promises'
import {isAbsolute} from 'node:path'
import {badInput} from '../errors.js'
import {formatTarget, parseTarget, type Scheme, TARGET_FORMS} from './local-target.js'

/**
 * What an endpoint publishes: a local port, or an HTTP server on a unix socket. A port's scheme is
 * absent for plain http, as in every endpoint file from before https targets.
 */
export type ExposeTarget = {kind: 'port'; port: number; scheme?: Scheme} | {kind: 'unix'; path: string}

const USAGE = `Give a local port as ${TARGET_FORMS}, or a unix socket as unix:/path/to/app.sock.`

/** `3000`, `https://localhost:8443` (any form parseTarget takes) or `unix:/run/app.sock`; a relative socket path is the caller's to resolve first. */
export function parseExposeTarget(raw: string): ExposeTarget {
  if (raw.startsWith('unix:')) {
    const path = raw.slice('unix:'.length)
    if (!isAbsolute(path)) throw badInput(`The socket path in "${raw}" must be absolute. ${USAGE}`)
    return {kind: 'unix', path}
  }

  const {port, scheme} = parseTarget(raw, USAGE)
  return scheme === 'https' ? {kind: 'port', port, scheme} : {kind: 'port', port}
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

/** `3000`, `https://localhost:8443` or `unix:/path`: how targets go on the wire and into endpoint files, which parseExposeTarget reads back. */
export function formatExposeTarget(target: ExposeTarget): string {
  return target.kind === 'port' ? formatTarget({port: target.port, scheme: target.scheme ?? 'http'}) : `unix:${target.path}`
}
