import {createHash, randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {readFileSync} from 'node:fs'
import {request as httpRequest, type RequestListener} from 'node:http'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {WebSocket, WebSocketServer} from 'ws'
import {TestHome, waitFor} from '../helpers/cli.js'
import {App, basicAuthorization, readAll, sendWithHost, Upstream} from '../helpers/http.js'
import {within} from '../helpers/wait.js'

/**
 * Quick tunnels through the real supervisor's proxy. The fake cloudflared forwards nothing, so each
 * test sends what cloudflared would: the request, to the origin it was given, with the tunnel's
 * trycloudflare Host and a CF-Connecting-IP naming the visitor.
 */
let t: TestHome
let app: App
let appPort: number
const upstreams: Upstream[] = []

beforeEach(async () => {
  t = new TestHome()
  app = new App('app')
  appPort = await app.listen()
})
afterEach(async () => {
  await app.close()
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()))
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

interface Started {
  url: string
  host: string
  /** Where cloudflared was told to send visitors. */
  origin: number
  password?: string
}

async function startTunnel(port: number, ...flags: string[]): Promise<Started> {
  const before = new Set(t.fakeRuns().map((run) => run.pid))
  const started = await t.json(['tunnel', 'start', String(port), ...flags])
  expect(started.exitCode, started.stderr).toBe(0)
  const run = t.fakeRuns().find((each) => !before.has(each.pid))!
  const origin = Number(new URL(run.args[run.args.indexOf('--url') + 1]).port)
  if (!flags.includes('--direct')) expect(origin, "cloudflared's origin: the proxy, not the port").not.toBe(port)
  return {url: started.body.url, host: new URL(started.body.url).host, origin, password: started.body.password}
}

/** What cloudflared sends for a visitor at 203.0.113.7. */
function asCloudflared({origin, host}: Started, options: {path?: string; headers?: Record<string, string>} = {}) {
  return sendWithHost(origin, host, {path: options.path, headers: {'cf-connecting-ip': '203.0.113.7', ...options.headers}})
}

async function upstreamOnPort(handler: RequestListener): Promise<{upstream: Upstream; port: number}> {
  const upstream = new Upstream(handler)
  upstreams.push(upstream)
  return {upstream, port: await upstream.listen()}
}

async function readBytes(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('a quick tunnel goes through the proxy', () => {
  it("points cloudflared at the proxy's cloudflared entrance, which routes the tunnel's host to the port as it came", async () => {
    const tunnel = await startTunnel(appPort)
    const status = (await t.json(['supervisor', 'status'])).body
    expect(tunnel.origin, 'not the port itself').not.toBe(appPort)
    expect(tunnel.origin, "not the proxy's own port, where CF-Connecting-IP would be the visitor's word").not.toBe(status.proxyPort)

    const reply = await asCloudflared(tunnel, {path: '/hello?x=1'})
    expect(reply.status).toBe(200)
    const seen = JSON.parse(reply.body)
    expect(seen).toMatchObject({app: 'app', url: '/hello?x=1', headers: {host: tunnel.host, 'cf-connecting-ip': '203.0.113.7'}})

    const listed = (await t.json(['tunnel', 'list'])).body
    expect(listed).toEqual([expect.objectContaining({port: appPort, direct: false, auth: false})])
  })

  it('stops routing the host when the tunnel stops', async () => {
    const tunnel = await startTunnel(appPort)
    expect((await asCloudflared(tunnel)).status).toBe(200)
    await t.run(['tunnel', 'stop', String(appPort)])
    expect(await asCloudflared(tunnel)).toMatchObject({status: 404, body: 'tunnelctl: nothing is exposed at this host name\n'})
  })

  it('stops routing the host when cloudflared crashes, and a new tunnel on the port gets a route of its own', async () => {
    t.fakeModeNext('crash-after-start')
    const crashed = await startTunnel(appPort)
    await waitFor('the crash event', () => t.eventsLog().some((e) => e.type === 'tunnel.crashed' && e.port === appPort))
    expect((await asCloudflared(crashed)).status).toBe(404)

    const again = await startTunnel(appPort)
    expect((await asCloudflared(again)).status).toBe(200)
    expect((await asCloudflared(crashed)).status, "the crashed tunnel's host").toBe(404)
  })

  it('keeps a tunnel of its own for each port', async () => {
    const other = new App('other')
    const otherPort = await other.listen()
    try {
      const [first, second] = await Promise.all([startTunnel(appPort), startTunnel(otherPort)])
      expect(first.origin).toBe(second.origin)
      expect(JSON.parse((await asCloudflared(first)).body).app).toBe('app')
      expect(JSON.parse((await asCloudflared(second)).body).app).toBe('other')
    } finally {
      await other.close()
    }
  })

  it('passes bodies both ways byte for byte, and streams a response as the app writes it', async () => {
    let finish: () => void = () => {}
    const {port} = await upstreamOnPort(async (request, response) => {
      if (request.url === '/echo') {
        response.end(await readBytes(request))
        return
      }

      response.writeHead(200, {'content-type': 'text/plain'})
      response.write('first\n')
      finish = () => response.end('last\n')
    })
    const tunnel = await startTunnel(port)

    const body = randomBytes(300_000)
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const outgoing = httpRequest({host: '127.0.0.1', port: tunnel.origin, method: 'POST', path: '/echo', agent: false, headers: {host: tunnel.host}})
      outgoing.on('response', (response) => readBytes(response).then(resolve, reject))
      outgoing.on('error', reject)
      outgoing.end(body)
    })
    const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
    expect(digest(echoed)).toBe(digest(body))

    const streaming = httpRequest({host: '127.0.0.1', port: tunnel.origin, path: '/stream', agent: false, headers: {host: tunnel.host}})
    streaming.end()
    const [response] = (await within('the streamed response to start', once(streaming, 'response'))) as [NodeJS.ReadableStream]
    response.setEncoding('utf8')
    const [first] = await within('the first chunk, before the app ends its response', once(response, 'data'))
    expect(first).toBe('first\n')
    finish()
    expect(await readAll(response)).toBe('last\n')
  })

  it('carries WebSockets', async () => {
    const upstream = new Upstream()
    upstreams.push(upstream)
    const server = new WebSocketServer({server: upstream.server})
    server.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo ${data}`)))
    const tunnel = await startTunnel(await upstream.listen())

    const client = new WebSocket(`ws://127.0.0.1:${tunnel.origin}/`, {headers: {host: tunnel.host, 'cf-connecting-ip': '203.0.113.7'}})
    try {
      await within('the WebSocket to open', once(client, 'open'))
      client.send('hello')
      const [message] = await within('the echo', once(client, 'message'))
      expect(String(message)).toBe('echo hello')
    } finally {
      client.terminate()
      server.close()
    }
  })
})

describe("a tunnel's host is its own", () => {
  it('an endpoint whose provider names the same host is refused, and the tunnel keeps it', async () => {
    const tunnel = await startTunnel(appPort)
    for (const [key, value] of [
      ['command', `printf 'Forwarding https://${tunnel.host} -> %s\\n' {port}; exec sleep 1000000`],
      ['match', 'Forwarding https://(\\S+)'],
      ['url', 'https://{1}'],
    ]) {
      expect((await t.run(['config', 'set', `custom.same.${key}`, value])).exitCode).toBe(0)
    }
    const refused = await t.run(['expose', 'start', String(appPort), '--provider', 'same'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toBe(`Error: The host ${tunnel.host} already carries the traffic of the tunnel on port ${appPort}.`)
    expect((await t.json(['expose', 'list'])).body).toEqual([])
    expect(JSON.parse((await asCloudflared(tunnel)).body).app).toBe('app')
  })
})

describe('tunnel start --auth', () => {
  it('asks visitors for user tunnelctl and the password shown once, which reaches no argv, log or event', async () => {
    const tunnel = await startTunnel(appPort, '--auth')
    const {password} = tunnel
    expect(password).toMatch(/^[\w-]{24}$/)

    expect(await asCloudflared(tunnel)).toMatchObject({status: 401, headers: {'www-authenticate': 'Basic realm="tunnelctl"'}})
    expect((await asCloudflared(tunnel, {headers: {authorization: basicAuthorization('tunnelctl', 'wrong')}})).status).toBe(401)
    const admitted = await asCloudflared(tunnel, {headers: {authorization: basicAuthorization('tunnelctl', password!)}})
    expect(admitted.status).toBe(200)
    expect(JSON.parse(admitted.body).headers.authorization, 'the credentials are the proxy\'s, not the app\'s').toBeUndefined()

    const listed = await t.run(['tunnel', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({port: appPort, direct: false, auth: true})])
    const places = {
      "cloudflared's argv": JSON.stringify(t.fakeRuns()),
      'tunnel list': listed.stdout,
      'the supervisor log': readFileSync(join(t.home, 'run', 'supervisor.log'), 'utf8'),
      'the events log': readFileSync(join(t.home, 'events.log'), 'utf8'),
      'the processes': t.processes().map((p) => p.cmdline).join('\n'),
    }
    for (const [place, text] of Object.entries(places)) expect(text, place).not.toContain(password)
  })

  it('shows the password once to a person, with how to get another', async () => {
    const started = await t.run(['tunnel', 'start', String(appPort), '--auth'])
    expect(started.exitCode, started.stderr).toBe(0)
    const lines = started.stdout.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^Forwarding https://\\S+ -> http://localhost:${appPort}$`))
    expect(lines[1]).toBe('Username: tunnelctl')
    expect(lines[2]).toMatch(/^Password: [\w-]{24}$/)
    expect(lines[3]).toBe(
      `The password is shown this once and stored nowhere; \`tunnelctl tunnel stop ${appPort}\` and \`tunnelctl tunnel start ${appPort} --auth\` make a new one, and a new URL.`,
    )
    expect((await t.run(['tunnel', 'list'])).stdout).toMatch(new RegExp(`^${appPort}\\s+https:\\S+\\s+proxy\\s+yes\\s+up\\s`, 'm'))
  })
})

describe('tunnel start --direct', () => {
  it('runs cloudflared straight to the port, with no route in the proxy, and says so', async () => {
    const started = await t.run(['tunnel', 'start', String(appPort), '--direct'])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.stdout).toMatch(new RegExp(`^Forwarding https://\\S+ -> http://localhost:${appPort} \\(direct\\)$`))
    const [run] = t.fakeRuns()
    expect(run.args.slice(run.args.indexOf('--url'), run.args.indexOf('--url') + 2)).toEqual(['--url', `http://localhost:${appPort}`])

    const listed = await t.json(['tunnel', 'list'])
    expect(listed.body).toEqual([expect.objectContaining({port: appPort, direct: true, auth: false})])
    expect((await t.run(['tunnel', 'list'])).stdout).toMatch(new RegExp(`^${appPort}\\s+https:\\S+\\s+direct\\s+no\\s+up\\s`, 'm'))

    const url = /Forwarding (\S+)/.exec(started.stdout)![1]
    const {cloudflaredPort} = await proxiedOrigin()
    expect((await sendWithHost(cloudflaredPort, new URL(url).host)).status, "the proxy knows nothing of a direct tunnel's host").toBe(404)
  })

  it('refuses --auth, exit 2, and starts nothing', async () => {
    for (const args of [['--direct', '--auth'], ['--auth', '--direct', '--json']]) {
      const refused = await t.run(['tunnel', 'start', String(appPort), ...args])
      expect(refused.exitCode).toBe(2)
      const message = '--auth and --direct cannot be given together: give one of them. See --help for usage.'
      if (args.includes('--json')) expect(JSON.parse(refused.stdout)).toEqual({error: {code: 'BAD_INPUT', message}})
      else expect(refused.stderr).toBe(`Error: ${message}`)
    }

    expect(t.fakeRuns()).toEqual([])
    expect(t.supervisorPid(), 'no supervisor was started').toBeUndefined()
  })

  /** The proxy's entrance for cloudflared, as a proxied tunnel started for it shows. */
  async function proxiedOrigin(): Promise<{cloudflaredPort: number}> {
    const other = await startTunnel(1)
    return {cloudflaredPort: other.origin}
  }
})
