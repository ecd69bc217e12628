import {createHash, randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {mkdtemp, rm} from 'node:fs/promises'
import {type IncomingMessage, request as httpRequest, type RequestListener} from 'node:http'
import {type AddressInfo, createServer as createNetServer, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {gunzipSync, gzipSync} from 'node:zlib'
import {beforeEach, describe, expect, it} from 'vitest'
import {WebSocket, WebSocketServer} from 'ws'
import {hashPassword, newPassword} from '../../src/supervisor/proxy/basic-auth.js'
import {waitFor} from '../helpers/cli.js'
import {basicAuthorization, type HttpReply, readAll} from '../helpers/http.js'
import {AN_ENDPOINT, useProxyHarness} from '../helpers/proxy-harness.js'

const harness = useProxyHarness()
const {defer, send, sendRaw, upstreamOnPort} = harness

/** A port nothing listens on, on either loopback address. */
async function closedPort(): Promise<number> {
  const {upstream, port} = await upstreamOnPort()
  await upstream.close()
  return port
}

describe('routing by Host', () => {
  it('sends each host to its own upstream', async () => {
    const a = await upstreamOnPort((_request, response) => response.end('from a'))
    const b = await upstreamOnPort((_request, response) => response.end('from b'))
    harness.proxy.setRoute('a.test', {source: AN_ENDPOINT, target: {kind: 'port', port: a.port}})
    harness.proxy.setRoute('b.test', {source: AN_ENDPOINT, target: {kind: 'port', port: b.port}})

    expect(await send('a.test')).toMatchObject({status: 200, body: 'from a'})
    expect(await send('b.test')).toMatchObject({status: 200, body: 'from b'})
  })

  it("refuses a host another tunnel or endpoint holds, however it is spelled, and keeps that one's route", async () => {
    const tunnel = await upstreamOnPort((_request, response) => response.end('the tunnel'))
    const other = await upstreamOnPort((_request, response) => response.end('someone else'))
    const tunnelRoute = {source: {kind: 'tunnel', port: tunnel.port}, target: {kind: 'port', port: tunnel.port}} as const
    harness.proxy.setRoute('quick.test', tunnelRoute)

    const conflict = {code: 'CONFLICT', message: `The host quick.test already carries the traffic of the tunnel on port ${tunnel.port}.`}
    expect(() => harness.proxy.setRoute('Quick.Test.', {source: AN_ENDPOINT, target: {kind: 'port', port: other.port}})).toThrow(expect.objectContaining(conflict))
    expect(() => harness.proxy.setRoute('quick.test:443', {source: {kind: 'tunnel', port: other.port}, target: {kind: 'port', port: other.port}})).toThrow(
      expect.objectContaining(conflict),
    )
    expect(await send('quick.test')).toMatchObject({status: 200, body: 'the tunnel'})

    harness.proxy.setRoute(AN_ENDPOINT.kind, {source: AN_ENDPOINT, target: {kind: 'port', port: other.port}})
    expect(() => harness.proxy.setRoute(AN_ENDPOINT.kind, tunnelRoute)).toThrow(expect.objectContaining({code: 'CONFLICT', message: 'The host endpoint already carries the traffic of endpoint a1a1a1a1.'}))
    harness.proxy.setRoute('quick.test', {...tunnelRoute, authHash: await hashPassword('right')})
    expect((await send('quick.test')).status, 'its own source may replace a route').toBe(401)
  })

  it('ignores case, a trailing dot and the default ports 80 and 443, but not another port; IPv6 literals route by address', async () => {
    const {port} = await upstreamOnPort()
    const {port: otherPort} = await upstreamOnPort((request, response) => response.end(`other saw ${request.url}`))
    harness.proxy.setRoute('App.Test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    harness.proxy.setRoute('app.test:8080', {source: AN_ENDPOINT, target: {kind: 'port', port: otherPort}})
    harness.proxy.setRoute('::1', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    for (const host of ['app.test', 'APP.TEST', 'app.test.', 'App.Test.:443', 'app.test:80', 'app.test:', '[::1]', '[::1]:443']) {
      expect((await send(host, {path: '/x'})).body, host).toBe('upstream saw /x')
    }
    for (const host of ['app.test:8080', 'APP.test.:8080']) expect((await send(host, {path: '/x'})).body, host).toBe('other saw /x')
    for (const host of ['app.test:8081', '[::1]:8080', 'app.test:https']) expect((await send(host)).status, host).toBe(404)
  })

  it('answers 404 for an unknown or missing host without connecting upstream', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const unknown = await send('other.test')
    expect(unknown.status).toBe(404)
    expect(unknown.headers['content-type']).toMatch(/^text\/plain/)
    expect(unknown.body).toMatch(/^tunnelctl: /)
    expect((await send(undefined)).status).toBe(404)
    expect(upstream.connections).toBe(0)
  })

  it('serves connections accepted elsewhere and handed over, every request on them to the host they were handed over for', async () => {
    const {port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test:18221', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    const elsewhere = createNetServer((socket) => harness.proxy.accept(socket, {host: 'app.test:18221'}))
    defer(() => new Promise((resolve) => elsewhere.close(resolve)))
    elsewhere.listen(0, '127.0.0.1')
    await once(elsewhere, 'listening')

    for (const host of ['app.test:18221', '192.168.1.20', 'localhost']) {
      expect(await send(host, {port: (elsewhere.address() as AddressInfo).port}), host).toMatchObject({status: 200, body: 'upstream saw /'})
    }
    expect((await send('192.168.1.20')).status, "the proxy's own port routes by Host").toBe(404)
  })

  it('answers 400 to a request with two Host headers without connecting upstream, as nginx and Caddy do', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    harness.proxy.setRoute('other.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    for (const hosts of ['Host: app.test\r\nHost: other.test', 'Host: app.test\r\nHost: app.test']) {
      const reply = await sendRaw(`GET / HTTP/1.1\r\n${hosts}\r\nConnection: close\r\n\r\n`)
      expect(reply, hosts).toMatch(/^HTTP\/1\.1 400 [^]*\r\n\r\ntunnelctl: a request must have exactly one Host header\n$/)
    }
    const upgrade = await sendRaw('GET / HTTP/1.1\r\nHost: app.test\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')
    expect(upgrade).toMatch(/^HTTP\/1\.1 400 /)
    expect(upstream.connections).toBe(0)
  })

  it('answers 404 once a route is removed', async () => {
    const {port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    harness.proxy.removeRoute('APP.test')
    expect((await send('app.test')).status).toBe(404)
  })
})

describe('reaching the upstream', () => {
  it('answers 502 naming the target when nothing listens', async () => {
    const port = await closedPort()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const reply = await send('app.test')
    expect(reply.status).toBe(502)
    expect(reply.body).toBe(`tunnelctl: nothing answers at localhost:${port}\n`)
  })

  it('reaches a dev server that listens only on ::1', async () => {
    const upstream = harness.upstream()
    const port = await upstream.listen({host: '::1'})
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    expect(await send('app.test')).toMatchObject({status: 200, body: 'upstream saw /'})
  })

  it('forwards to a unix socket, and answers 502 when the socket file is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tunnelctl-proxy-'))
    defer(() => rm(dir, {recursive: true, force: true}))
    const path = join(dir, 'app.sock')
    await harness.upstream().listen({path})
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'unix', path}})
    harness.proxy.setRoute('gone.test', {source: AN_ENDPOINT, target: {kind: 'unix', path: join(dir, 'gone.sock')}})

    expect(await send('app.test', {path: '/over-a-socket'})).toMatchObject({status: 200, body: 'upstream saw /over-a-socket'})
    expect(await send('gone.test')).toMatchObject({status: 502, body: `tunnelctl: nothing answers at ${join(dir, 'gone.sock')}\n`})
  })

  it('keeps one connection to a port or a socket for requests one after another', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tunnelctl-proxy-'))
    defer(() => rm(dir, {recursive: true, force: true}))
    const onPort = harness.upstream()
    const onSocket = harness.upstream()
    harness.proxy.setRoute('port.test', {source: AN_ENDPOINT, target: {kind: 'port', port: await onPort.listen()}})
    harness.proxy.setRoute('socket.test', {source: AN_ENDPOINT, target: {kind: 'unix', path: join(dir, 'app.sock')}})
    await onSocket.listen({path: join(dir, 'app.sock')})

    for (let index = 0; index < 5; index++) {
      expect((await send('port.test')).status).toBe(200)
      expect((await send('socket.test')).status).toBe(200)
    }
    expect([onPort.connections, onSocket.connections]).toEqual([1, 1])
  })

  it('reads the next response on a kept connection after a download the client took more slowly than the app sent it', async () => {
    const download = Buffer.alloc(4 << 20, 'x')
    const {upstream, port} = await upstreamOnPort((request, response) => response.end(request.url === '/download' ? download : 'small'))
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    for (let index = 0; index < 3; index++) {
      expect((await send('app.test', {path: '/download'})).body.length).toBe(download.length)
      expect(await send('app.test', {path: '/small'}), 'on the connection the download came over').toMatchObject({status: 200, body: 'small'})
    }
    expect(upstream.connections).toBe(1)
  })

  it('sends an idempotent request again on a new connection when the kept one turns out closed, and no other', async () => {
    // Each connection serves one request: the next finds it closing, as when a server drops an idle connection just as a request arrives.
    const served = new WeakSet<object>()
    const {upstream, port} = await upstreamOnPort((request, response) => {
      if (served.has(request.socket)) return request.socket.destroy()
      served.add(request.socket)
      response.end(`served ${request.method}`)
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const post = async (): Promise<number> => {
      const upload = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: 'POST', headers: {host: 'app.test'}})
      upload.end('body')
      const [response] = await once(upload, 'response')
      await readAll(response)
      return response.statusCode
    }

    expect(await send('app.test')).toMatchObject({status: 200, body: 'served GET'})
    expect(await send('app.test'), 'on a new connection').toMatchObject({status: 200, body: 'served GET'})
    expect(await post()).toBe(200)
    expect(await post(), 'not sent again').toBe(502)
    expect(upstream.connections).toBe(3)
  })
})

describe('streaming', () => {
  it('passes large bodies on byte for byte to clients that read slowly and quickly at once, over kept connections', async () => {
    // The proxy reads the app's bytes into buffers it uses again once a client has taken them: a
    // client that lags behind must never get bytes of a later read, nor another client's.
    const bodies = new Map(['/a', '/b', '/c', '/d'].map((path) => [path, randomBytes(12 * 1024 * 1024 + 17)]))
    const {port} = await upstreamOnPort((request, response) => {
      const body = bodies.get(request.url!)!
      // Half of them by Content-Length, half in chunks of odd sizes.
      if (request.url === '/a' || request.url === '/c') response.writeHead(200, {'content-length': body.length})
      for (let offset = 0; offset < body.length; offset += 100_003) response.write(body.subarray(offset, offset + 100_003))
      response.end()
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const fetchBody = async (path: string, slow: boolean) => {
      const get = httpRequest({host: '127.0.0.1', port: harness.proxy.port, path, headers: {host: 'app.test'}})
      defer(() => get.destroy())
      get.end()
      const [response] = (await once(get, 'response')) as [IncomingMessage]
      const hash = createHash('sha256')
      for await (const chunk of response) {
        hash.update(chunk as Buffer)
        if (slow) await delay(2)
      }

      return hash.digest('hex')
    }

    const sha = (path: string) => createHash('sha256').update(bodies.get(path)!).digest('hex')
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all([fetchBody('/a', true), fetchBody('/b', false), fetchBody('/c', false), fetchBody('/d', true)])
      expect(got, `round ${round}`).toEqual(['/a', '/b', '/c', '/d'].map(sha))
    }
  })

  it('passes an upload on chunk by chunk, before the client has finished sending', async () => {
    let firstChunk!: (chunk: string) => void
    const firstChunkArrived = new Promise<string>((resolve) => (firstChunk = resolve))
    const {port} = await upstreamOnPort(async (request, response) => {
      let body = ''
      for await (const chunk of request) {
        if (body === '') firstChunk(String(chunk))
        body += chunk
      }

      response.end(`received ${body}`)
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const upload = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: 'POST', headers: {host: 'app.test'}})
    defer(() => upload.destroy())
    const replied = once(upload, 'response')
    upload.write('first,')
    expect(await firstChunkArrived).toBe('first,')
    upload.end('second')

    const [response] = await replied
    expect(await readAll(response)).toBe('received first,second')
  })

  it('passes server-sent events on one by one, before the upstream has finished', async () => {
    let sendTheRest!: () => void
    const restMaySend = new Promise<void>((resolve) => (sendTheRest = resolve))
    const {port} = await upstreamOnPort(async (_request, response) => {
      response.writeHead(200, {'content-type': 'text/event-stream'})
      response.write('data: one\n\n')
      await restMaySend
      response.end('data: two\n\n')
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const events = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, headers: {host: 'app.test'}})
    defer(() => events.destroy())
    events.end()
    const [response] = await once(events, 'response')
    expect(response.headers['content-type']).toBe('text/event-stream')
    const chunks = response[Symbol.asyncIterator]()
    expect(String((await chunks.next()).value)).toBe('data: one\n\n')
    sendTheRest()
    expect(String((await chunks.next()).value)).toBe('data: two\n\n')
    expect((await chunks.next()).done).toBe(true)
  })
})

describe('request framing', () => {
  it('passes a chunked body on framed whatever the method, and says an empty body is empty', async () => {
    const seen: string[] = []
    const {port} = await upstreamOnPort(async (request, response) => {
      const framing = request.headers['transfer-encoding'] ?? `content-length ${request.headers['content-length'] ?? 'none'}`
      seen.push(`${request.method} ${request.url} (${framing}) ${JSON.stringify(await readAll(request))}`)
      response.end('ok')
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    /** Sends `head` on a connection of its own and waits for the start of the answer. */
    const exchange = async (head: string): Promise<void> => {
      const client = harness.connectRaw()
      client.write(head)
      await once(client, 'data')
    }

    // A body that would read as a request of its own on the kept upstream connection, were it sent unframed.
    const inner = 'GET /inner HTTP/1.1\r\nHost: app.test\r\n\r\n'
    await exchange(`GET /outer HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`)
    expect((await send('app.test', {path: '/next'})).body).toBe('ok')
    await exchange('POST /empty HTTP/1.1\r\nHost: app.test\r\n\r\n')

    expect(seen[0], 'framed again, never read as a request of its own').toBe(`GET /outer (chunked) ${JSON.stringify(inner)}`)
    expect(seen.slice(1)).toEqual(['GET /next (content-length none) ""', 'POST /empty (content-length 0) ""'])
  })
})

describe('an upstream that dies mid-response', () => {
  it('cuts the client off rather than end the body as if it were whole', async () => {
    const {port} = await upstreamOnPort((request, response) => {
      response.writeHead(200, {'content-length': 100})
      response.write('only part', () => request.socket.destroy())
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const download = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, headers: {host: 'app.test'}})
    defer(() => download.destroy())
    download.end()
    const [response] = await once(download, 'response')
    await expect(readAll(response)).rejects.toThrow(/aborted/)
  })
})

describe('responses as the upstream writes them', () => {
  /** An upstream that answers each request head with the bytes `answer` gives for its path (one character a byte), and closes the connection after those ending in <close>. */
  async function rawUpstream(answer: (path: string) => string): Promise<{port: number; connections: () => number}> {
    let connections = 0
    const sockets = new Set<Socket>()
    const server = createNetServer((socket) => {
      connections++
      sockets.add(socket)
      // The proxy destroys a connection whose response it gives up.
      socket.on('error', () => {})
      socket.once('close', () => sockets.delete(socket))
      let received = ''
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1')
        for (let end = received.indexOf('\r\n\r\n'); end !== -1; end = received.indexOf('\r\n\r\n')) {
          const reply = answer(received.slice(0, end).split(' ')[1])
          received = received.slice(end + 4)
          if (reply.endsWith('<close>')) socket.end(reply.slice(0, -'<close>'.length), 'latin1')
          else socket.write(reply, 'latin1')
        }
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    defer(() => {
      for (const socket of sockets) socket.destroy()
      server.close()
    })
    return {port: (server.address() as AddressInfo).port, connections: () => connections}
  }

  const FINE = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine'

  it('passes on a body that ends with the connection', async () => {
    const {port} = await rawUpstream(() => 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it<close>')
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    expect(await send('app.test', {path: '/until-close'})).toMatchObject({status: 200, body: 'all of it'})
  })

  it('passes interim answers (103 Early Hints) on before the response, to HTTP/1.1 clients', async () => {
    const early = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nConnection: x-hop\r\nX-Hop: private\r\n\r\n'
    const {port} = await rawUpstream(() => `${early}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal`)
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const hints: {status: number; rawHeaders: string[]}[] = []
    const client = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, headers: {host: 'app.test'}})
    defer(() => client.destroy())
    client.on('information', ({statusCode, rawHeaders}) => hints.push({status: statusCode, rawHeaders}))
    client.end()
    const [response] = await once(client, 'response')
    expect([response.statusCode, await readAll(response)]).toEqual([200, 'final'])
    expect(hints).toEqual([{status: 103, rawHeaders: ['Link', '</style.css>; rel=preload; as=style']}])

    // An HTTP/1.0 client must get no 1xx (RFC 9110 15.2).
    expect(await sendRaw('GET / HTTP/1.0\r\nHost: app.test\r\n\r\n', {end: false})).toMatch(/^HTTP\/1\.1 200 OK\r\n(?![^]*103)[^]*final$/)
  })

  it('passes a body in transfer codings on in them, labelled, and answers 502 to a client that cannot take them', async () => {
    const compressed = gzipSync('the whole body').toString('latin1')
    const {port} = await rawUpstream((path) =>
      path === '/chunked'
        ? `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${compressed.length.toString(16)}\r\n${compressed}\r\n0\r\n\r\n`
        : `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip\r\n\r\n${compressed}<close>`,
    )
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    for (const path of ['/chunked', '/until-close']) {
      const client = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, path, headers: {host: 'app.test'}})
      defer(() => client.destroy())
      client.end()
      const [response] = await once(client, 'response')
      const chunks: Buffer[] = []
      for await (const chunk of response) chunks.push(chunk)
      expect(response.headers['transfer-encoding'], path).toBe('gzip, chunked')
      expect(gunzipSync(Buffer.concat(chunks)).toString(), path).toBe('the whole body')
    }

    const old = await sendRaw('GET /chunked HTTP/1.0\r\nHost: app.test\r\n\r\n', {end: false})
    expect(old).toMatch(/^HTTP\/1\.1 502 [^]*\r\n\r\ntunnelctl: the app at localhost:\d+ sent its body in transfer coding "gzip", which cannot be passed on to this client\n$/)
  })

  it('reads a response with both Transfer-Encoding and Content-Length by its chunks, drops the length, and does not use that connection again', async () => {
    const {port, connections} = await rawUpstream((path) => (path === '/both' ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' : FINE))
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const both = await send('app.test', {path: '/both'})
    expect(both).toMatchObject({status: 200, body: 'hello'})
    expect(both.headers).not.toHaveProperty('content-length')
    expect(await send('app.test', {path: '/next'})).toMatchObject({status: 200, body: 'fine'})
    expect(connections()).toBe(2)
  })

  it('answers 502 to a response it cannot frame with certainty, and sends nothing more down that connection', async () => {
    const {port, connections} = await rawUpstream((path) => (path === '/ambiguous' ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok' : FINE))
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    expect(await send('app.test', {path: '/ambiguous'})).toMatchObject({
      status: 502,
      body: `tunnelctl: the app at localhost:${port} sent a response the proxy cannot read as HTTP/1.1\n`,
    })
    expect(await send('app.test', {path: '/next'})).toMatchObject({status: 200, body: 'fine'})
    expect(connections()).toBe(2)
  })

  it('gives up a connection whose response ran past its length', async () => {
    const {port, connections} = await rawUpstream((path) => (path === '/overrun' ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA' : FINE))
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    expect(await send('app.test', {path: '/overrun'})).toMatchObject({status: 200, body: 'ok'})
    expect(await send('app.test', {path: '/next'})).toMatchObject({status: 200, body: 'fine'})
    expect(connections()).toBe(2)
  })

  it('answers HEAD with the length and no body, and keeps the connection', async () => {
    const {port, connections} = await rawUpstream((path) => (path === '/head' ? 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n' : FINE))
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const head = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: 'HEAD', path: '/head', headers: {host: 'app.test'}})
    head.end()
    const [response] = await once(head, 'response')
    expect([response.statusCode, response.headers['content-length'], await readAll(response)]).toEqual([200, '99', ''])
    expect(await send('app.test', {path: '/next'})).toMatchObject({status: 200, body: 'fine'})
    expect(connections()).toBe(1)
  })
})

describe('trailers', () => {
  /** A request through the proxy with `headers`, and a body sent in chunks when given; resolves with the reply and its trailers. */
  async function fetchWithTrailers(headers: Record<string, string>, body?: string): Promise<{reply: HttpReply; trailers: string[]}> {
    const client = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: body === undefined ? 'GET' : 'POST', headers: {host: 'app.test', ...headers}})
    defer(() => client.destroy())
    client.end(body)
    const [response] = await once(client, 'response')
    const text = await readAll(response)
    return {reply: {status: response.statusCode, headers: response.headers, body: text}, trailers: response.rawTrailers}
  }

  beforeEach(async () => {
    const {port} = await upstreamOnPort(async (request, response) => {
      await readAll(request)
      response.writeHead(200, {trailer: 'X-Checksum'})
      response.write('body')
      response.addTrailers({'X-Checksum': 'abc'})
      response.end()
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
  })

  it('delivers trailers and the Trailer header to a client that says it takes them (TE: trailers)', async () => {
    const {reply, trailers} = await fetchWithTrailers({te: 'trailers'})
    expect(reply).toMatchObject({status: 200, body: 'body', headers: {trailer: 'X-Checksum'}})
    expect(trailers).toEqual(['X-Checksum', 'abc'])
  })

  it('delivers them to a client that sent its own request in chunks', async () => {
    const {trailers} = await fetchWithTrailers({'transfer-encoding': 'chunked'}, 'upload')
    expect(trailers).toEqual(['X-Checksum', 'abc'])
  })

  it('drops them, and the Trailer header, for any other client', async () => {
    const {reply, trailers} = await fetchWithTrailers({})
    expect(reply).toMatchObject({status: 200, body: 'body'})
    expect(reply.headers).not.toHaveProperty('trailer')
    expect(trailers).toEqual([])
  })
})

describe('an app that takes too long to answer', () => {
  it('gets 504 naming the target once the response timeout is over, and the request is not sent again', async () => {
    let requests = 0
    const {port} = await upstreamOnPort(() => requests++)
    harness.proxy.responseTimeoutMs = 1000
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    let reply: HttpReply | undefined
    void send('app.test').then((settled) => (reply = settled))
    expect(await waitFor('an answer from the proxy while the app says nothing', () => reply, 20_000)).toMatchObject({
      status: 504,
      body: `tunnelctl: the app at localhost:${port} did not answer within 1 s (proxy.responseTimeout)\n`,
    })
    expect(requests).toBe(1)
  })

  it('does not cut off an event stream that has sent its head, however long it waits between events', async () => {
    const {port} = await upstreamOnPort(async (_request, response) => {
      response.writeHead(200, {'content-type': 'text/event-stream'})
      response.write('data: one\n\n')
      await delay(2500)
      response.end('data: two\n\n')
    })
    harness.proxy.responseTimeoutMs = 1000
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    expect(await send('app.test')).toMatchObject({status: 200, body: 'data: one\n\ndata: two\n\n'})
  })

  it('does not count the time an upload takes', async () => {
    const {port} = await upstreamOnPort(async (request, response) => response.end(`received ${await readAll(request)}`))
    harness.proxy.responseTimeoutMs = 1000
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const upload = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: 'POST', headers: {host: 'app.test'}})
    defer(() => upload.destroy())
    upload.write('slow,')
    await delay(2500)
    upload.end('upload')
    const [response] = await once(upload, 'response')
    expect([response.statusCode, await readAll(response)]).toEqual([200, 'received slow,upload'])
  })
})

describe('closing the proxy', () => {
  it('ends open WebSockets and event streams, and stops listening', async () => {
    const events = await upstreamOnPort((_request, response) => response.writeHead(200, {'content-type': 'text/event-stream'}).write('data: one\n\n'))
    harness.proxy.setRoute('events.test', {source: AN_ENDPOINT, target: {kind: 'port', port: events.port}})
    const echo = harness.upstream()
    new WebSocketServer({server: echo.server})
    harness.proxy.setRoute('ws.test', {source: AN_ENDPOINT, target: {kind: 'port', port: await echo.listen()}})

    const client = new WebSocket(`ws://127.0.0.1:${harness.proxy.port}/`, {headers: {host: 'ws.test'}})
    defer(() => client.terminate())
    const stream = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, headers: {host: 'events.test'}})
    defer(() => stream.destroy())
    stream.end()
    const [[response]] = await Promise.all([once(stream, 'response'), once(client, 'open')])

    await harness.proxy.close()
    await once(client, 'close')
    await expect(readAll(response)).rejects.toThrow(/aborted/)
    await expect(send('events.test')).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('headers', () => {
  const echoHeaders: RequestListener = (request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify(request.headers))
  }

  it('adds X-Forwarded-*, keeps Host, and drops hop-by-hop request headers', async () => {
    const {port} = await upstreamOnPort(echoHeaders)
    harness.proxy.setRoute('app.test:8080', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const reply = await send('App.Test:8080', {
      headers: {
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': 'secret',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic cHJveHk6cHJveHk=',
        authorization: 'Bearer for-the-app',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-app': 'kept',
      },
    })
    const seen = JSON.parse(reply.body)
    expect(seen).toMatchObject({
      host: 'App.Test:8080',
      'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'App.Test:8080',
      'x-app': 'kept',
      authorization: 'Bearer for-the-app',
    })
    for (const name of ['x-private-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(seen, name).not.toHaveProperty(name)
  })

  it('says http and names the client when nothing came before it', async () => {
    const {port} = await upstreamOnPort(echoHeaders)
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    expect(JSON.parse((await send('app.test')).body)).toMatchObject({'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'app.test'})
  })

  it('drops hop-by-hop response headers and keeps the rest', async () => {
    const {port} = await upstreamOnPort((_request, response) => {
      response.writeHead(200, {
        connection: 'x-upstream-hop',
        'x-upstream-hop': 'private',
        'keep-alive': 'timeout=99',
        'proxy-authenticate': 'Basic realm="upstream"',
        'x-app': 'kept',
      })
      response.end('ok')
    })
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const reply = await send('app.test', {headers: {connection: 'close'}})
    expect(reply).toMatchObject({status: 200, body: 'ok'})
    expect(reply.headers['x-app']).toBe('kept')
    for (const name of ['x-upstream-hop', 'keep-alive', 'proxy-authenticate']) expect(reply.headers, name).not.toHaveProperty(name)
  })
})

describe('never an open proxy', () => {
  it('refuses absolute-URI requests, CONNECT and OPTIONS * without connecting upstream', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const absolute = await sendRaw(`GET http://app.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`)
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /)
    const tunnel = await sendRaw(`CONNECT app.test:${port} HTTP/1.1\r\nHost: app.test:${port}\r\n\r\n`)
    expect(tunnel).toMatch(/^HTTP\/1\.1 400 /)
    const asterisk = await sendRaw('OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
    expect(asterisk).toMatch(/^HTTP\/1\.1 400 /)
    expect(upstream.connections).toBe(0)
  })
})

describe('WebSockets', () => {
  async function echoServer(): Promise<{port: number; server: WebSocketServer}> {
    const upstream = harness.upstream()
    const server = new WebSocketServer({server: upstream.server})
    server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, {binary: isBinary})))
    return {port: await upstream.listen(), server}
  }

  const openClient = harness.openWebSocket

  it('echoes messages through the proxy', async () => {
    const {port} = await echoServer()
    harness.proxy.setRoute('ws.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const client = openClient('ws.test')
    await once(client, 'open')
    client.send('hello')
    const [message] = await once(client, 'message')
    expect(String(message)).toBe('hello')
  })

  it('closes the other side when either side closes', async () => {
    const {port, server} = await echoServer()
    harness.proxy.setRoute('ws.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const leaving = openClient('ws.test')
    const [[upstreamSide]] = await Promise.all([once(server, 'connection'), once(leaving, 'open')])
    leaving.terminate()
    await once(upstreamSide, 'close')

    const staying = openClient('ws.test')
    const [[closedByUpstream]] = await Promise.all([once(server, 'connection'), once(staying, 'open')])
    closedByUpstream.terminate()
    await once(staying, 'close')
  })

  it('refuses an upgrade for an unknown host or without credentials', async () => {
    const {port} = await echoServer()
    harness.proxy.setRoute('ws.test', {source: AN_ENDPOINT, target: {kind: 'port', port}, authHash: await hashPassword('right')})

    const [, unknown] = await once(openClient('other.test'), 'unexpected-response')
    expect(unknown.statusCode).toBe(404)
    const [, anonymous] = await once(openClient('ws.test'), 'unexpected-response')
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="tunnelctl"')

    const client = openClient('ws.test', {authorization: basicAuthorization('tunnelctl', 'right')})
    await once(client, 'open')
  })

  it("passes on the upstream's answer when it declines to upgrade", async () => {
    const {port} = await upstreamOnPort((_request, response) => response.writeHead(403, {'content-type': 'text/plain'}).end('no websockets here'))
    harness.proxy.setRoute('plain.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})

    const [, response] = await once(openClient('plain.test'), 'unexpected-response')
    expect(response.statusCode).toBe(403)
    expect(await readAll(response)).toBe('no websockets here')
  })
})

describe('Basic auth', () => {
  let password: string
  let hash: string
  let port: number

  beforeEach(async () => {
    password = newPassword()
    port = (await upstreamOnPort((request, response) => response.end(`authorization: ${request.headers.authorization ?? 'none'}`))).port
    hash = await hashPassword(password)
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}, authHash: hash})
  })

  it('makes passwords of at least 128 random bits in URL-safe characters', () => {
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(newPassword()).not.toBe(password)
  })

  it('answers 401 with WWW-Authenticate for a missing, wrong or malformed credential', async () => {
    for (const authorization of [undefined, basicAuthorization('tunnelctl', 'wrong'), basicAuthorization('admin', password), `Bearer ${password}`, 'Basic !!!', basicAuthorization('tunnelctl', '')]) {
      const reply = await send('app.test', {headers: authorization === undefined ? {} : {authorization}})
      expect(reply.status, authorization).toBe(401)
      expect(reply.headers['www-authenticate']).toBe('Basic realm="tunnelctl"')
      expect(reply.body).toMatch(/^tunnelctl: /)
    }
  })

  it('lets the right credential through without passing it upstream', async () => {
    expect(await send('app.test', {headers: {authorization: basicAuthorization('tunnelctl', password)}})).toMatchObject({status: 200, body: 'authorization: none'})
  })

  it('verifies a credential once and remembers it', async () => {
    const headers = {authorization: basicAuthorization('tunnelctl', password)}
    expect((await send('app.test', {headers})).status).toBe(200)
    expect((await send('app.test', {headers})).status).toBe(200)
    expect(harness.verifications).toBe(1)
  })

  it('does not remember a wrong credential as good', async () => {
    const headers = {authorization: basicAuthorization('tunnelctl', 'wrong')}
    expect((await send('app.test', {headers})).status).toBe(401)
    expect((await send('app.test', {headers})).status).toBe(401)
    expect(harness.verifications).toBe(2)
  })

  it('keeps remembered credentials when the route is set again with the same hash', async () => {
    const headers = {authorization: basicAuthorization('tunnelctl', password)}
    await send('app.test', {headers})
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}, authHash: hash})
    expect((await send('app.test', {headers})).status).toBe(200)
    expect(harness.verifications).toBe(1)
  })

  it('forgets remembered credentials when auth is switched off and on again', async () => {
    const headers = {authorization: basicAuthorization('tunnelctl', password)}
    await send('app.test', {headers})
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}, authHash: hash})
    expect((await send('app.test', {headers})).status).toBe(200)
    expect(harness.verifications).toBe(2)
  })

  it('forgets remembered credentials when the hash changes', async () => {
    const oldHeaders = {authorization: basicAuthorization('tunnelctl', password)}
    expect((await send('app.test', {headers: oldHeaders})).status).toBe(200)

    const replacement = newPassword()
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}, authHash: await hashPassword(replacement)})
    expect((await send('app.test', {headers: oldHeaders})).status).toBe(401)
    expect(harness.verifications).toBe(2)
    expect((await send('app.test', {headers: {authorization: basicAuthorization('tunnelctl', replacement)}})).status).toBe(200)
    expect(harness.verifications).toBe(3)
  })

  it('passes Authorization through untouched when the route has no auth', async () => {
    harness.proxy.setRoute('app.test', {source: AN_ENDPOINT, target: {kind: 'port', port}})
    expect((await send('app.test', {headers: {authorization: 'Bearer for-the-app'}})).body).toBe('authorization: Bearer for-the-app')
  })
})
