import {randomBytes} from 'node:crypto'
import {createServer, request, type IncomingMessage, type Server} from 'node:http'
import {type AddressInfo, connect} from 'node:net'
import {once} from 'node:events'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {WebSocket, WebSocketServer} from 'ws'
import {TestHome, waitFor} from '../helpers/cli.js'
import {socketRequest} from '../helpers/socket.js'
import {within} from '../helpers/wait.js'

const LAN_HOST = 'devbox.test'

interface Seen {
  method: string
  url: string
  body: Buffer
  authorization?: string
}

/** An app that echoes request bodies, sets a cookie, streams events, answers one request without end and takes WebSockets; it remembers what it was sent. */
class RecordingApp {
  readonly seen: Seen[] = []
  private readonly server: Server
  private readonly sockets: WebSocketServer

  constructor() {
    this.server = createServer(async (req, res) => {
      const body = await readBody(req)
      this.seen.push({method: req.method!, url: req.url!, body, authorization: req.headers.authorization})
      if (req.url === '/events') {
        res.writeHead(200, {'content-type': 'text/event-stream'})
        res.end('data: hello\n\n')
      } else if (req.url === '/endless') {
        res.writeHead(200, {'content-type': 'text/plain'})
        res.write('and on')
      } else if (req.url === '/cookie') {
        res.writeHead(200, {'set-cookie': 'session=s3cr3t; HttpOnly', 'content-type': 'text/plain'})
        res.end('cookie set')
      } else if (req.url?.startsWith('/sink')) {
        res.end('ok')
      } else {
        res.writeHead(200, {'content-type': 'application/octet-stream'})
        res.end(body.length > 0 ? body : `you asked for ${req.url}`)
      }
    })
    this.sockets = new WebSocketServer({server: this.server})
    this.sockets.on('connection', (socket) => socket.on('message', (data) => socket.send(data)))
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)))
  }

  close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate()
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

interface Reply {
  status: number
  body: Buffer
}

let t: TestHome
let app: RecordingApp
let appPort: number
let lanPort: number

/** A request to the local endpoint, as a visitor on the LAN would send it. */
function send(path: string, options: {method?: string; headers?: Record<string, string>; body?: Buffer | string} = {}): Promise<Reply> {
  const reply = new Promise<Reply>((resolve, reject) => {
    const req = request({host: '127.0.0.1', port: lanPort, path, method: options.method ?? 'GET', headers: {host: `${LAN_HOST}:${lanPort}`, ...options.headers}, agent: false}, async (res) =>
      resolve({status: res.statusCode!, body: await readBody(res)}),
    )
    req.on('error', reject)
    req.end(options.body)
  })
  return within(`the endpoint to answer ${path}`, reply)
}

const socketPath = () => join(t.home, 'run', 'supervisor.sock')

beforeEach(async () => {
  t = new TestHome()
  app = new RecordingApp()
  appPort = await app.listen()
  lanPort = await t.localProviderOnLoopback(LAN_HOST)
})
afterEach(async () => {
  await app.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function exposeLocal(args: string[] = []): Promise<{id: string; password?: string}> {
  const started = await t.json(['expose', 'start', String(appPort), '--provider', 'local', ...args])
  expect(started.exitCode, started.stderr).toBe(0)
  return {id: started.body.id, password: started.body.password}
}

async function logs(id: string, args: string[] = []): Promise<any[]> {
  const result = await t.json(['expose', 'logs', id, ...args])
  expect(result.exitCode, result.stderr).toBe(0)
  return result.body
}

/** The requests of endpoint `id` once `count` of them are complete: a request's entry completes as its response ends, a moment after the visitor has it. */
async function completed(id: string, count: number, args: string[] = []): Promise<any[]> {
  return waitFor(`${count} complete requests of ${id}`, async () => {
    const entries = await logs(id, args)
    return entries.length >= count && entries.every((entry) => entry.durationMs !== null) && entries
  })
}

/** One request with its bodies, as the control socket gives it. */
async function recorded(requestId: string): Promise<any> {
  const reply = await socketRequest(socketPath(), 'GET', `/v1/requests/${requestId}`)
  expect(reply.status, JSON.stringify(reply.body)).toBe(200)
  return reply.body.request
}

const decoded = (body: {base64: string}) => Buffer.from(body.base64, 'base64')

describe('request logs of an endpoint', () => {
  it('records each request with its method, path and query, status, timings, sizes and visitor, as --json and as a table', async () => {
    const {id} = await exposeLocal()
    expect((await send('/hello?name=world')).status).toBe(200)
    expect((await send('/submit', {method: 'POST', body: 'a=1&b=2', headers: {'content-type': 'application/x-www-form-urlencoded'}})).status).toBe(200)

    const entries = await completed(id, 2)
    expect(entries).toHaveLength(2)
    const [get, post] = entries
    expect(get).toMatchObject({
      method: 'GET',
      path: '/hello?name=world',
      status: 200,
      source: {kind: 'endpoint', id},
      visitor: '127.0.0.1',
      protocol: 'http',
      bytesIn: 0,
      bytesOut: Buffer.byteLength('you asked for /hello?name=world'),
      requestBody: null,
      responseBody: null,
    })
    expect(get.id).toMatch(/^[a-z0-9]+-\d+$/)
    expect(Date.parse(get.time)).not.toBeNaN()
    expect(get.firstByteMs).toBeGreaterThanOrEqual(0)
    expect(get.durationMs).toBeGreaterThanOrEqual(get.firstByteMs)
    expect(get.requestHeaders).toContainEqual(['host', `${LAN_HOST}:${lanPort}`])
    expect(post).toMatchObject({method: 'POST', path: '/submit', status: 200, bytesIn: 7, bytesOut: 7})

    const table = await t.run(['expose', 'logs', id])
    expect(table.exitCode, table.stderr).toBe(0)
    const normalised = table.stdout
      .replaceAll(get.id, '<id1>')
      .replaceAll(post.id, '<id2>')
      .replaceAll(/\d\d:\d\d:\d\d/g, '<time>')
      .replaceAll(/\d+ms/g, '<ms>')
      // The placeholders are not as wide as what they stand for.
      .replaceAll(/ {2,}/g, '  ')
    expect(normalised).toMatchInlineSnapshot(`
      "ID  TIME  METHOD  PATH  STATUS  DURATION  SIZE
      <id1>  <time>  GET  /hello?name=world  200  <ms>  31 B
      <id2>  <time>  POST  /submit  200  <ms>  7 B"
    `)

    // -n keeps the newest.
    expect((await logs(id, ['-n', '1'])).map((entry) => entry.id)).toEqual([post.id])
  })

  it('masks Authorization, Cookie and Set-Cookie values, which the app still gets', async () => {
    const {id} = await exposeLocal()
    await send('/cookie', {headers: {authorization: 'Bearer top-secret', cookie: 'session=abc'}})
    const [entry] = await completed(id, 1)
    expect(entry.requestHeaders).toContainEqual(['authorization', '[masked]'])
    expect(entry.requestHeaders).toContainEqual(['cookie', '[masked]'])
    expect(entry.responseHeaders).toContainEqual(['set-cookie', '[masked]'])
    expect(JSON.stringify(await recorded(entry.id))).not.toMatch(/top-secret|session=abc|s3cr3t/)
    expect(app.seen[0].authorization).toBe('Bearer top-secret')
  })

  it('keeps binary bodies as they were, and cuts them at inspect.bodyBytes', async () => {
    await t.run(['config', 'set', 'inspect.bodyBytes', '1000'])
    const {id} = await exposeLocal()
    const small = randomBytes(300)
    const large = randomBytes(5000)
    await send('/echo', {method: 'PUT', body: small})
    await send('/echo', {method: 'PUT', body: large})
    const [first, second] = await completed(id, 2)

    const whole = await recorded(first.id)
    expect(whole.requestBody).toMatchObject({size: 300, truncated: false})
    expect(decoded(whole.requestBody).equals(small)).toBe(true)
    expect(decoded(whole.responseBody).equals(small)).toBe(true)

    const cut = await recorded(second.id)
    expect(cut.requestBody).toMatchObject({size: 5000, truncated: true})
    expect(decoded(cut.requestBody).equals(large.subarray(0, 1000))).toBe(true)
    expect(cut.responseBody).toMatchObject({size: 5000, truncated: true})
    expect(cut).toMatchObject({bytesIn: 5000, bytesOut: 5000})
  })

  it('keeps no bodies with inspect.bodyBytes 0, but still counts their bytes', async () => {
    await t.run(['config', 'set', 'inspect.bodyBytes', '0'])
    const {id} = await exposeLocal()
    await send('/echo', {method: 'POST', body: 'payload'})
    const [entry] = await completed(id, 1)
    expect(await recorded(entry.id)).toMatchObject({bytesIn: 7, bytesOut: 7, requestBody: null, responseBody: null})
  })

  it('keeps inspect.keep requests per endpoint, dropping the oldest, and expose list counts them', async () => {
    await t.run(['config', 'set', 'inspect.keep', '3'])
    const {id} = await exposeLocal()
    for (const n of [1, 2, 3, 4, 5]) await send(`/sink/${n}`)
    const entries = await waitFor('the ring to hold the newest 3', async () => {
      const found = await logs(id)
      return found.at(-1)?.path === '/sink/5' && found.every((entry) => entry.durationMs !== null) && found
    })
    expect(entries.map((entry) => entry.path)).toEqual(['/sink/3', '/sink/4', '/sink/5'])

    const listed = await t.json(['expose', 'list'])
    expect(listed.body).toMatchObject([{id, requests: 3}])
    const table = await t.run(['expose', 'list'])
    expect(table.stdout.split('\n')[0]).toMatch(/RESTARTS\s+REQUESTS$/)
    expect(table.stdout.split('\n')[1]).toMatch(/\s3$/)

    // A dropped request is gone for good.
    const dropped = await t.run(['replay', `${entries[0].id.split('-')[0]}-1`])
    expect(dropped.exitCode).toBe(1)
    expect(dropped.stderr).toContain('may have been dropped (inspect.keep)')
  })

  it('drops the oldest bodies first once all kept bodies reach inspect.maxMemory', async () => {
    await t.run(['config', 'set', 'inspect.maxMemory', '1'])
    await t.run(['config', 'set', 'inspect.bodyBytes', '500000'])
    const {id} = await exposeLocal()
    // 400 KiB of request body each, answered with 2 bytes: the third does not fit in 1 MiB beside the first two.
    const bodies = [randomBytes(400 * 1024), randomBytes(400 * 1024), randomBytes(400 * 1024)]
    for (const body of bodies) await send('/sink', {method: 'POST', body})
    const entries = await completed(id, 3)
    const [oldest, middle, newest] = await Promise.all(entries.map((entry) => recorded(entry.id)))
    expect(oldest.requestBody).toEqual({base64: '', size: 400 * 1024, truncated: true})
    expect(decoded(middle.requestBody).equals(bodies[1])).toBe(true)
    expect(decoded(newest.requestBody).equals(bodies[2])).toBe(true)
  })

  it('marks WebSocket upgrades and event streams', async () => {
    const {id} = await exposeLocal()
    const events = await send('/events')
    expect(events.body.toString()).toBe('data: hello\n\n')
    const socket = new WebSocket(`ws://127.0.0.1:${lanPort}/chat`, {headers: {host: `${LAN_HOST}:${lanPort}`}})
    try {
      await within('the WebSocket to open through the proxy', new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)))
      const entries = await completed(id, 2)
      expect(entries.map(({path, protocol, status}) => ({path, protocol, status}))).toEqual([
        {path: '/events', protocol: 'sse', status: 200},
        {path: '/chat', protocol: 'websocket', status: 101},
      ])
      const table = await t.run(['expose', 'logs', id])
      expect(table.stdout).toMatch(/\/events\s+200 sse/)
      expect(table.stdout).toMatch(/\/chat\s+101 ws/)
    } finally {
      socket.terminate()
    }
  })

  it('records a request the proxy refused for lack of a password, and replays it past the password', async () => {
    const {id} = await exposeLocal(['--auth'])
    expect((await send('/private', {method: 'POST', body: 'x=1'})).status).toBe(401)
    const [refused] = await completed(id, 1)
    expect(refused).toMatchObject({path: '/private', status: 401})
    expect(app.seen).toEqual([])

    const replay = await t.json(['replay', refused.id])
    expect(replay.exitCode, replay.stderr).toBe(0)
    expect(replay.body).toMatchObject({replayOf: refused.id, status: 200, method: 'POST', path: '/private', visitor: 'replay'})
    expect(app.seen.map(({method, url, body}) => ({method, url, body: body.toString()}))).toEqual([{method: 'POST', url: '/private', body: 'x=1'}])
  })
})

describe('visitors who go away', () => {
  it('completes the entry of a visitor gone while its password was checked, with no status', async () => {
    const {id} = await exposeLocal(['--auth'])
    const socket = connect(lanPort, '127.0.0.1')
    await once(socket, 'connect')
    // A password is checked by bcrypt in a worker: the visitor is gone long before it answers.
    socket.end(`GET /gone HTTP/1.1\r\nHost: ${LAN_HOST}:${lanPort}\r\nAuthorization: Basic ${Buffer.from('tunnelctl:wrong').toString('base64')}\r\n\r\n`)
    socket.destroy()
    const [gone] = await completed(id, 1)
    expect(gone).toMatchObject({path: '/gone', status: null})
    expect(app.seen).toEqual([])
  })

  it('completes the entry of a visitor gone in the middle of an answer', async () => {
    const {id} = await exposeLocal()
    const socket = connect(lanPort, '127.0.0.1')
    socket.write(`GET /endless HTTP/1.1\r\nHost: ${LAN_HOST}:${lanPort}\r\n\r\n`)
    await within('the head of the endless answer', once(socket, 'data'))
    socket.destroy()
    const [cut] = await completed(id, 1)
    expect(cut).toMatchObject({path: '/endless', status: 200})
  })
})

describe('following requests', () => {
  it('--follow prints each new request as it completes, NDJSON with --json', async () => {
    const {id} = await exposeLocal()
    const follow = t.spawn(['expose', 'logs', id, '--follow', '--json'])
    try {
      let output = ''
      follow.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      // The follower subscribes a moment after it starts: requests are sent until one is seen.
      let sent = 0
      await waitFor('the follower to print a request', async () => {
        await send(`/sink/${++sent}`)
        return output.includes('\n')
      }, 30_000)
      const first = JSON.parse(output.split('\n')[0])
      expect(first).toMatchObject({method: 'GET', path: expect.stringMatching(/^\/sink\/\d+$/), status: 200, source: {kind: 'endpoint', id}})
      expect(first.durationMs).not.toBeNull()
    } finally {
      follow.kill()
      await follow
    }
  })

  it('--follow without --json prints lines', async () => {
    const {id} = await exposeLocal()
    await send('/before')
    await completed(id, 1)
    const follow = t.spawn(['expose', 'logs', id, '--follow', '-n', '5'])
    try {
      let output = ''
      follow.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      await waitFor('the follower to print the recent request', () => output.includes('/before'), 30_000)
      expect(output).toMatch(/^[a-z0-9]+-1 {2}\d\d:\d\d:\d\d {2}GET {2}\/before {2}200 {2}\d+ms {2}\d+ B\n$/)
    } finally {
      follow.kill()
      await follow
    }
  })
})

describe('replay', () => {
  it('sends a POST again with its recorded body, and records it as a new request', async () => {
    const {id} = await exposeLocal()
    const body = randomBytes(2000)
    await send('/orders?x=1', {method: 'POST', body, headers: {'content-type': 'application/octet-stream', 'x-custom': 'yes'}})
    const [original] = await completed(id, 1)

    const replayed = await t.json(['replay', original.id])
    expect(replayed.exitCode, replayed.stderr).toBe(0)
    expect(replayed.body).toMatchObject({replayOf: original.id, method: 'POST', path: '/orders?x=1', status: 200, bytesIn: 2000, source: {kind: 'endpoint', id}})
    expect(replayed.body.id).not.toBe(original.id)
    expect(app.seen).toHaveLength(2)
    expect(app.seen[1].url).toBe('/orders?x=1')
    expect(app.seen[1].body.equals(body)).toBe(true)

    const human = await t.run(['replay', original.id])
    expect(human).toMatchObject({exitCode: 0, stdout: expect.stringMatching(new RegExp(`^Replayed ${original.id} as [a-z0-9]+-\\d+: POST /orders\\?x=1 → 200 in \\d+ms, 2\\.0 KiB\\.$`))})
    expect((await logs(id)).filter((entry) => entry.replayOf === original.id)).toHaveLength(2)
  })

  it('refuses a request whose body was cut at inspect.bodyBytes, and sends nothing', async () => {
    await t.run(['config', 'set', 'inspect.bodyBytes', '16'])
    const {id} = await exposeLocal()
    await send('/upload', {method: 'POST', body: 'x'.repeat(100)})
    const [original] = await completed(id, 1)
    const refused = await t.run(['replay', original.id])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(`Request ${original.id} cannot be replayed: only 16 of its 100 body bytes were kept`)
    expect(app.seen).toHaveLength(1)
  })

  it('rejects a malformed id with exit 2 and an unknown one with exit 1', async () => {
    const malformed = await t.run(['replay', 'NOT AN ID'])
    expect(malformed.exitCode).toBe(2)
    expect(malformed.stderr).toContain('"NOT AN ID" is not a request id')
    await exposeLocal()
    const unknown = await t.run(['replay', 'abcde-99'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain('No recorded request abcde-99')
  })
})

describe('logs of what is not there', () => {
  it('reads without starting a supervisor, and names an unknown endpoint or tunnel', async () => {
    expect(await t.run(['expose', 'logs', 'abcd1234'])).toMatchObject({
      exitCode: 0,
      stdout: 'No requests: the supervisor is not running, and requests are recorded only in its memory.',
    })
    expect(await t.json(['tunnel', 'logs', '3000'])).toMatchObject({exitCode: 0, body: []})
    expect(t.supervisorPid()).toBeUndefined()

    await exposeLocal()
    const unknown = await t.run(['expose', 'logs', 'abcd1234'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toContain('No endpoint abcd1234. See them all with `tunnelctl expose list`.')
    const noTunnel = await t.run(['tunnel', 'logs', '3000', '--follow'])
    expect(noTunnel.exitCode).toBe(1)
    expect(noTunnel.stderr).toContain('No tunnel on port 3000.')
    expect((await t.run(['expose', 'logs', 'NOPE'])).exitCode).toBe(2)
    expect((await t.run(['tunnel', 'logs', '70000'])).exitCode).toBe(2)
    expect((await t.run(['expose', 'logs', 'abcd1234', '-n', '0'])).exitCode).toBe(2)
  })

  it('tunnel logs of a running tunnel answers with what the proxy recorded for it', async () => {
    const started = await t.run(['tunnel', 'start', String(appPort)])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(await t.run(['tunnel', 'logs', String(appPort)])).toMatchObject({exitCode: 0, stdout: `No requests recorded for the tunnel on port ${appPort} yet.`})
    expect(await t.json(['tunnel', 'logs', String(appPort)])).toMatchObject({exitCode: 0, body: []})
  })
})
