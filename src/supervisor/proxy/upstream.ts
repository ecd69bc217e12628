import {type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions} from 'node:http'
import {connect, type LookupFunction, type OnReadOpts, type Socket, type TcpNetConnectOpts} from 'node:net'
import type {HeaderLines} from './forwarding.js'

export type ProxyTarget = {kind: 'port'; port: number} | {kind: 'unix'; path: string}

/** A dev server may listen on 127.0.0.1 or only on ::1 (vite does): net tries each, IPv4 first. */
const bothLoopbacks: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{address: '127.0.0.1', family: 4}, {address: '::1', family: 6}])
  else callback(null, '127.0.0.1', 4)
}

/** How the proxy reaches a port: on either loopback address, and without Nagle, so that what it writes goes out at once instead of waiting for the upstream's ACK. */
const PORT_CONNECTION: Omit<TcpNetConnectOpts, 'port'> = {host: 'localhost', lookup: bothLoopbacks, autoSelectFamily: true, noDelay: true}

/** A new connection to `target`; `onread`: see net.connect, for a reader that takes the bytes itself. */
export function connectTo(target: ProxyTarget, onread?: OnReadOpts): Socket {
  return target.kind === 'unix' ? connect({path: target.path, onread}) : connect({...PORT_CONNECTION, port: target.port, onread})
}

/** An upgrade request for `target`, on a connection of its own, which the upgrade keeps. */
export function upgradeRequestTo(target: ProxyTarget, {method, url}: IncomingMessage, headers: HeaderLines): ClientRequest {
  const options: RequestOptions = {method, path: url, headers, createConnection: () => connectTo(target)}
  return httpRequest(options)
}

/** The target as the visitor is told about it when nothing answers there. */
export function targetName(target: ProxyTarget): string {
  return target.kind === 'port' ? `localhost:${target.port}` : target.path
}
