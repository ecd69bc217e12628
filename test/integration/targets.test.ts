import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer as createHttpsServer, type Server as HttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {WebSocket, WebSocketServer} from 'ws'
import {TestHome} from '../helpers/cli.js'
import {sendWithHost, visit} from '../helpers/http.js'
import {unusedPort} from '../helpers/ports.js'
import {within} from '../helpers/wait.js'

/** Targets as people write them, for `tunnel start` and `expose start`, and https dev servers behind both. */
let t: TestHome
let cleanups: Array<() => unknown> = []
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/** Every form an http target may take, for a port. */
const httpForms = (port: number) => [
  String(port),
  `localhost:${port}`,
  `127.0.0.1:${port}`,
  `[::1]:${port}`,
  `http://localhost:${port}`,
  `http://127.0.0.1:${port}/`,
  `http://[::1]:${port}`,
]

/** The origin the fake cloudflared run for `port` was given, and every argument it got. */
function cloudflaredFor(port: number): {url: string; args: string[]} {
  const runs = t.fakeRuns().filter((run) => run.args.some((arg) => arg.endsWith(`://localhost:${port}`)))
  expect(runs, `one cloudflared run for port ${port}`).toHaveLength(1)
  const {args} = runs[0]
  return {url: args[args.indexOf('--url') + 1], args}
}

describe('tunnel start', () => {
  it('takes a port however it is written, and the tunnel is named by that port', async () => {
    const base = await unusedPort()
    const forms = httpForms(base).map((form, i) => [form.replace(String(base), String(base + i)), base + i] as const)
    for (const [form, port] of forms) {
      // --direct, so that cloudflared's own --url shows the port the target named.
      const started = await t.json(['tunnel', 'start', form, '--direct'])
      expect(started.exitCode, `${form}: ${started.stderr}`).toBe(0)
      expect(started.body, form).toMatchObject({port, scheme: 'http', status: 'up'})
      expect(cloudflaredFor(port), form).toMatchObject({url: `http://localhost:${port}`})
      expect(cloudflaredFor(port).args, form).not.toContain('--no-tls-verify')
    }

    const listed = await t.json(['tunnel', 'list'])
    expect(listed.body.map((tunnel: {port: number}) => tunnel.port)).toEqual(forms.map(([, port]) => port))
    expect((await t.run(['tunnel', 'stop', String(base + 4)])).exitCode).toBe(0)
  })

  it('reaches an https dev server through the proxy, which speaks TLS to it, warns that its certificate is not verified, and names it by its port', async () => {
    const dev = await httpsDevServer()
    const port = dev.port
    const human = await t.run(['tunnel', 'start', `https://localhost:${port}`])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^Forwarding https://[a-z-]+\\.trycloudflare\\.com -> https://localhost:${port}$`))
    expect(human.stderr).toContain(`Warning: The certificate of https://localhost:${port} is not verified`)
    const run = t.fakeRuns().at(-1)!
    const origin = new URL(run.args[run.args.indexOf('--url') + 1])
    expect(origin.protocol, 'cloudflared speaks plain http to the proxy').toBe('http:')
    expect(Number(origin.port), 'cloudflared is pointed at the proxy, not the port').not.toBe(port)
    expect(run.args).not.toContain('--no-tls-verify')
    const host = new URL(human.stdout.split(' ')[1]).host
    const reply = await sendWithHost(Number(origin.port), host, {path: '/hello?x=1', headers: {'cf-connecting-ip': '203.0.113.7'}})
    expect(reply.status, reply.body).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({secure: true, url: '/hello?x=1', host})

    const list = await t.run(['tunnel', 'list'])
    expect(list.stdout).toMatch(new RegExp(`^${port} \\(https\\)  https://`, 'm'))
    expect((await t.json(['tunnel', 'list'])).body).toEqual([expect.objectContaining({port, scheme: 'https'})])
    expect((await t.run(['tunnel', 'stop', String(port)])).exitCode).toBe(0)
  })

  it('with --direct, runs cloudflared with --no-tls-verify for an https target, and warns', async () => {
    const port = await unusedPort()
    const json = await t.json(['tunnel', 'start', `https://127.0.0.1:${port}/`, '--direct'])
    expect(json.exitCode).toBe(0)
    expect(json.stderr).toBe('')
    expect(json.body.scheme).toBe('https')
    expect(json.body.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`The certificate of https://localhost:${port} is not verified`)]))
    const {url, args} = cloudflaredFor(port)
    expect(url).toBe(`https://localhost:${port}`)
    expect(args.slice(args.indexOf('--url'))).toEqual(['--url', `https://localhost:${port}`, '--no-tls-verify'])
  })
})

describe('expose start', () => {
  let lanPort: number
  beforeEach(async () => {
    lanPort = await t.localProviderOnLoopback('devbox.test')
  })

  it('takes a port however it is written, and keeps it as the port', async () => {
    const base = await unusedPort()
    for (const form of httpForms(base)) {
      const started = await t.json(['expose', 'start', form, '--provider', 'local'])
      expect(started.exitCode, `${form}: ${started.stderr}`).toBe(0)
      expect(started.body.target, form).toBe(String(base))
      const stored = JSON.parse(readFileSync(join(t.home, 'expose', 'endpoints', `${started.body.id}.json`), 'utf8'))
      expect(stored.target, form).toBe(String(base))
      expect((await t.run(['expose', 'stop', started.body.id])).exitCode, form).toBe(0)
    }
  })

  it('reaches an https dev server with a self-signed certificate, for requests and WebSockets, and warns that the certificate is not verified', async () => {
    const dev = await httpsDevServer()
    const target = `https://localhost:${dev.port}`
    const started = await t.json(['expose', 'start', `https://127.0.0.1:${dev.port}`, '--provider', 'local'])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.body).toMatchObject({target, status: 'up'})
    expect(started.body.warnings).toEqual([`The certificate of ${target} is not verified (it is your own local server, usually self-signed): anything listening on that port is trusted.`])
    const stored = JSON.parse(readFileSync(join(t.home, 'expose', 'endpoints', `${started.body.id}.json`), 'utf8'))
    expect(stored.target).toBe(target)

    const reply = await visit(lanPort, `devbox.test:${lanPort}`, {path: '/hello?x=1'})
    expect(reply.status, reply.body).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({secure: true, url: '/hello?x=1', host: `devbox.test:${lanPort}`})
    const big = await visit(lanPort, `devbox.test:${lanPort}`, {path: '/big'})
    expect(big.body.length).toBe(BIG_BODY.length)
    expect(big.body === BIG_BODY, 'a large body over TLS arrives whole and in order').toBe(true)

    const client = new WebSocket(`ws://127.0.0.1:${lanPort}/echo`, {headers: {host: `devbox.test:${lanPort}`}})
    cleanups.push(() => client.terminate())
    await within('the WebSocket through the proxy to the https server to open', once(client, 'open'))
    client.send('over tls')
    const [echoed] = await within('the echo from the https server', once(client, 'message'))
    expect(String(echoed)).toBe('echo: over tls')

    // Brought back from its file by the next supervisor, still over TLS.
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    expect((await t.json(['expose', 'list'])).body).toEqual([expect.objectContaining({target, status: 'up'})])
    const again = await visit(lanPort, `devbox.test:${lanPort}`)
    expect(again.status, again.body).toBe(200)
    expect(JSON.parse(again.body)).toMatchObject({secure: true})

    const human = await t.run(['expose', 'list'])
    expect(human.stdout).toContain(target)
  })

  it('still takes a unix socket', async () => {
    const socket = join(t.home, 'app.sock')
    const started = await t.json(['expose', 'start', `unix:${socket}`, '--provider', 'local'])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.body.target).toBe(`unix:${socket}`)
  })
})

/** Larger than any one read from the TLS connection, and than the proxy's read buffer: the body arrives in many pieces. */
const BIG_BODY = Array.from({length: 40_000}, (_, i) => `line ${i}\n`).join('')

/**
 * A local https server as dev servers run one: a self-signed certificate for localhost, made with
 * openssl in a temporary directory. It answers JSON saying what it saw, and echoes WebSocket messages.
 */
async function httpsDevServer(): Promise<{port: number; server: HttpsServer}> {
  const dir = mkdtempSync(join(tmpdir(), 'tc-cert-'))
  cleanups.push(() => rmSync(dir, {recursive: true, force: true}))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert])
  const server = createHttpsServer({key: readFileSync(key), cert: readFileSync(cert)}, (request, response) => {
    if (request.url === '/big') {
      response.setHeader('content-type', 'text/plain')
      response.end(BIG_BODY)
      return
    }

    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({secure: 'encrypted' in request.socket, url: request.url, host: request.headers.host}))
  })
  new WebSocketServer({server}).on('connection', (socket) => socket.on('message', (data) => socket.send(`echo: ${String(data)}`)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return {port: (server.address() as AddressInfo).port, server}
}
