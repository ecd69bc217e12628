import {connect} from 'node:net'
import type {ExposeTarget} from '../protocol/expose-target.js'
import {localAddress} from '../protocol/local-target.js'

/**
 * A warning when nothing accepts connections on the target yet, else undefined. Not an error: the
 * app may well start after its tunnel or endpoint, and visitors get 502 until it does.
 */
export async function warnIfNothingListens(target: ExposeTarget): Promise<string | undefined> {
  if (await isListening(target)) return undefined
  const where = target.kind === 'unix' ? `unix:${target.path}` : localAddress(target)
  return `Nothing is listening on ${where} yet; visitors get 502 until something does.`
}

/** Whether something accepts connections there: a port on localhost over IPv4 or IPv6, as the proxy and cloudflared try it, or a unix socket. */
function isListening(target: ExposeTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      target.kind === 'port'
        ? connect({host: 'localhost', port: target.port, autoSelectFamily: true, timeout: 1000})
        : connect({path: target.path, timeout: 1000})
    const finish = (listening: boolean) => {
      socket.destroy()
      resolve(listening)
    }

    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
    socket.once('timeout', () => finish(false))
  })
}
