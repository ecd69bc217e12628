import {Agent, type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions} from 'node:http'
import type {LookupFunction, TcpNetConnectOpts} from 'node:net'
import type {HeaderLines} from './forwarding.js'

export type ProxyTarget = {kind: 'port'; port: number} | {kind: 'unix'; path: string}

/**
 * Shorter than any dev server's own keep-alive timeout we know of (gunicorn's 2 s is the shortest),
 * so that the proxy lets an idle connection go before the server does and seldom sends a request
 * down one the server is closing. A shorter timeout a server announces in Keep-Alive is believed.
 */
const IDLE_TIMEOUT_MS = 1_000

/**
 * Keeps connections to the targets open between requests, one pool per target: a new connection
 * for every request costs more than all the rest of the proxy's work on it. No cap on connections:
 * a request must never wait behind long polls and event streams.
 */
export function upstreamAgent(): Agent {
  return new Agent({keepAlive: true, timeout: IDLE_TIMEOUT_MS})
}

/** A dev server may listen on 127.0.0.1 or only on ::1 (vite does): net tries each, IPv4 first. */
const bothLoopbacks: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{address: '127.0.0.1', family: 4}, {address: '::1', family: 6}])
  else callback(null, '127.0.0.1', 4)
}

/**
 * A request for `target`, over one of `agent`'s connections or, with false, one of its own. The
 * options are written out for each request rather than spread from ones kept with the route: V8
 * copies an object spread into a literal slowly (2.5 µs against 12 ns here).
 */
export function requestTo(target: ProxyTarget, agent: Agent | false, {method, url}: IncomingMessage, headers: HeaderLines): ClientRequest {
  if (target.kind === 'unix') return httpRequest({socketPath: target.path, agent, method, path: url, headers})
  const options: RequestOptions & Pick<TcpNetConnectOpts, 'autoSelectFamily' | 'noDelay'> = {
    host: 'localhost',
    port: target.port,
    lookup: bothLoopbacks,
    autoSelectFamily: true,
    // Without Nagle, what the proxy writes goes out at once instead of waiting for the upstream's ACK.
    noDelay: true,
    agent,
    method,
    path: url,
    headers,
  }
  return httpRequest(options)
}

/** The target as the visitor is told about it when nothing answers there. */
export function targetName(target: ProxyTarget): string {
  return target.kind === 'port' ? `localhost:${target.port}` : target.path
}
