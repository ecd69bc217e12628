import {type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions} from 'node:http'
import {connect, type LookupFunction, type OnReadOpts, type Socket, type TcpNetConnectOpts} from 'node:net'
import {connect as connectTls} from 'node:tls'
import {localAddress, type Scheme} from '../../protocol/local-target.js'
import type {HeaderLines} from './forwarding.js'

/** An https port's server is spoken to over TLS; a port without a scheme speaks plain http. */
export type ProxyTarget = {kind: 'port'; port: number; scheme?: Scheme} | {kind: 'unix'; path: string}

/** A dev server may listen on 127.0.0.1 or only on ::1 (vite does): net tries each, IPv4 first. */
const bothLoopbacks: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{address: '127.0.0.1', family: 4}, {address: '::1', family: 6}])
  else callback(null, '127.0.0.1', 4)
}

/** How the proxy reaches a port: on either loopback address, and without Nagle, so that what it writes goes out at once instead of waiting for the upstream's ACK. */
const PORT_CONNECTION: Omit<TcpNetConnectOpts, 'port'> = {host: 'localhost', lookup: bothLoopbacks, autoSelectFamily: true, noDelay: true}

/**
 * A new connection to `target`; `onread`: see net.connect, for a reader that takes the bytes itself.
 * An https server on a port is the user's own local dev server, whose certificate is almost always
 * self-signed: it is not verified (cloudflared's --no-tls-verify).
 */
export function connectTo(target: ProxyTarget, onread?: OnReadOpts): Socket {
  if (target.kind === 'unix') return connect({path: target.path, onread})
  if (target.scheme === 'https') return readingInto(connectTls({...PORT_CONNECTION, port: target.port, servername: 'localhost', rejectUnauthorized: false}), onread)
  return connect({...PORT_CONNECTION, port: target.port, onread})
}

/** A TLS socket takes no onread: what it decrypts is handed to the reader the same way, a buffer at a time. */
function readingInto(socket: Socket, onread: OnReadOpts | undefined): Socket {
  if (!onread) return socket
  socket.on('data', (chunk: Buffer) => {
    for (let at = 0; at < chunk.length; ) {
      const buffer = typeof onread.buffer === 'function' ? onread.buffer() : onread.buffer
      const length = chunk.copy(buffer, 0, at)
      at += length
      onread.callback(length, buffer)
    }
  })
  return socket
}

/** An upgrade request for `target`, on a connection of its own, which the upgrade keeps. */
export function upgradeRequestTo(target: ProxyTarget, {method, url}: IncomingMessage, headers: HeaderLines): ClientRequest {
  const options: RequestOptions = {method, path: url, headers, createConnection: () => connectTo(target)}
  return httpRequest(options)
}

/** The target as the visitor is told about it when nothing answers there. */
export function targetName(target: ProxyTarget): string {
  return target.kind === 'unix' ? target.path : localAddress(target)
}
