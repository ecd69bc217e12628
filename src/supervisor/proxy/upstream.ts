import {type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions} from 'node:http'
import type {LookupFunction, TcpNetConnectOpts} from 'node:net'
import type {Client, Pool} from 'undici'
import type {HeaderLines} from './forwarding.js'

export type ProxyTarget = {kind: 'port'; port: number} | {kind: 'unix'; path: string}

/**
 * Shorter than any dev server's own keep-alive timeout we know of (gunicorn's 2 s is the shortest),
 * so that the proxy lets an idle connection go before the server does and seldom sends a request
 * down one the server is closing. A shorter timeout a server announces in Keep-Alive is believed.
 */
const IDLE_TIMEOUT_MS = 1_000

/**
 * Keeps connections to the targets open between requests, one undici pool per target: a new
 * connection for every request costs more than all the rest of the proxy's work on it, and undici's
 * client costs a third of node:http's per request. No cap on connections: a request must never wait
 * behind long polls and event streams, which have no timeouts either.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>()
  /** Loaded with the first request: a supervisor that proxies nothing should not pay for it at start. */
  private undici: Promise<{Pool: typeof Pool; Client: typeof Client}> | undefined

  async for(target: ProxyTarget): Promise<Pool> {
    const key = target.kind === 'port' ? String(target.port) : `unix:${target.path}`
    let pool = this.pools.get(key)
    if (!pool) {
      const {Pool} = await this.load()
      pool = this.pools.get(key) ?? new Pool(origin(target), options(target))
      this.pools.set(key, pool)
    }

    return pool
  }

  /** A connection of its own, for one request; the caller closes it. */
  async oneOff(target: ProxyTarget): Promise<Client> {
    const {Client} = await this.load()
    return new Client(origin(target), options(target))
  }

  private load(): Promise<{Pool: typeof Pool; Client: typeof Client}> {
    this.undici ??= import('undici').then(({Pool, Client}) => ({Pool, Client}))
    return this.undici
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()))
  }
}

function origin(target: ProxyTarget): string {
  return target.kind === 'unix' ? 'http://localhost' : `http://localhost:${target.port}`
}

function options(target: ProxyTarget) {
  return {
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    keepAliveMaxTimeout: IDLE_TIMEOUT_MS,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: target.kind === 'unix' ? {socketPath: target.path} : {lookup: bothLoopbacks, autoSelectFamily: true, noDelay: true},
  }
}

/** A dev server may listen on 127.0.0.1 or only on ::1 (vite does): net tries each, IPv4 first. */
const bothLoopbacks: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{address: '127.0.0.1', family: 4}, {address: '::1', family: 6}])
  else callback(null, '127.0.0.1', 4)
}

/** An upgrade request for `target`, on a connection of its own, which the upgrade keeps. */
export function upgradeRequestTo(target: ProxyTarget, {method, url}: IncomingMessage, headers: HeaderLines): ClientRequest {
  const agent = false
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
