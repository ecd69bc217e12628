import type {OutgoingHttpHeaders, RequestListener} from 'node:http'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterEach, beforeEach} from 'vitest'
import {WebSocket} from 'ws'
import {PasswordChecks} from '../../src/supervisor/proxy/password-checks.js'
import {ReverseProxy} from '../../src/supervisor/proxy/reverse-proxy.js'
import {ROOT} from './cli.js'
import {exchangeRaw, type HttpReply, sendWithHost, Upstream} from './http.js'

export interface ProxyHarness {
  /** A new ReverseProxy for each test, listening. */
  readonly proxy: ReverseProxy
  /** bcrypt verifications the proxy ran (or started) in this test. */
  readonly verifications: number
  /**
   * Keeps verifications from finishing until the returned function is called, as when requests
   * arrive faster than bcrypt answers: they are counted when they start. bcrypt itself runs, and
   * its worker is free again, as it would be; only the answer waits.
   */
  holdVerifications(): () => void
  /** Runs `cleanup` after this test, passed or failed, before what was deferred earlier. */
  defer(cleanup: () => unknown): void
  /** An upstream that is closed after the test; not yet listening. */
  upstream(handler?: RequestListener): Upstream
  upstreamOnPort(handler?: RequestListener): Promise<{upstream: Upstream; port: number}>
  /** A request to the proxy (or to `port`) with exactly the given Host header, none when undefined. */
  send(host: string | undefined, options?: {path?: string; headers?: OutgoingHttpHeaders; port?: number}): Promise<HttpReply>
  /** A connection to the proxy that is destroyed after the test. */
  connectRaw(): Socket
  /** Writes raw bytes to the proxy and returns everything it answers until it closes the connection; see exchangeRaw for `end`. */
  sendRaw(text: string, options?: {end?: boolean}): Promise<string>
  /** A WebSocket client through the proxy to /echo; terminated after the test. */
  openWebSocket(host: string, headers?: Record<string, string>): WebSocket
}

/** The source a test's routes record their requests under, when the test does not look at them. */
export const TEST_SOURCE = {kind: 'endpoint', id: 'test'} as const

/** The built supervisor, whose entry answers password checks when started as a worker thread: build before testing. */
export const SUPERVISOR_BUNDLE = join(ROOT, 'dist', 'supervisor.js')

/**
 * Gives each test in the file a fresh ReverseProxy on a real socket, counting the bcrypt
 * verifications it runs, and closes the proxy and everything the test opened through the harness
 * after each test, whether it passed or not.
 */
export function useProxyHarness(): ProxyHarness {
  let cleanups: (() => unknown)[] = []
  let proxy: ReverseProxy
  let verifications = 0
  let held: Promise<void> | undefined

  beforeEach(async () => {
    verifications = 0
    held = undefined
    const checks = new PasswordChecks(SUPERVISOR_BUNDLE)
    proxy = new ReverseProxy({
      passwordChecks: {
        check(password, hash) {
          const started = checks.check(password, hash)
          if (!started) return undefined
          verifications++
          const holding = held
          if (!holding) return started
          return started.then(async (ok) => {
            await holding
            return ok
          })
        },
        close: () => checks.close(),
      },
    })
    cleanups.push(() => proxy.close())
    await proxy.listen()
  })

  afterEach(async () => {
    const pending = cleanups.reverse()
    cleanups = []
    await Promise.allSettled(pending.map(async (cleanup) => cleanup()))
  })

  const harness: ProxyHarness = {
    get proxy() {
      return proxy
    },
    get verifications() {
      return verifications
    },
    holdVerifications() {
      let release!: () => void
      held = new Promise((resolve) => (release = resolve))
      return release
    },
    defer: (cleanup) => cleanups.push(cleanup),
    upstream(handler) {
      const upstream = new Upstream(handler)
      cleanups.push(() => upstream.close())
      return upstream
    },
    async upstreamOnPort(handler) {
      const upstream = harness.upstream(handler)
      return {upstream, port: await upstream.listen()}
    },
    send: (host, options = {}) => sendWithHost(options.port ?? proxy.port, host, options),
    connectRaw() {
      const socket = connect(proxy.port, '127.0.0.1')
      cleanups.push(() => socket.destroy())
      return socket
    },
    sendRaw: (text, options) => exchangeRaw(harness.connectRaw(), text, options),
    openWebSocket(host, headers = {}) {
      const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/echo`, {headers: {...headers, host}})
      // Terminating a client whose handshake was refused reports an error nobody here is waiting for.
      client.on('error', () => {})
      cleanups.push(() => client.terminate())
      return client
    },
  }
  return harness
}
