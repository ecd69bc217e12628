import {once} from 'node:events'
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {type AddressInfo, createServer as createNetServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {App, type HttpReply, visit} from '../helpers/http.js'

let t: TestHome
let app: App
let appPort: number
let lanPort: number
const LAN_HOST = 'devbox.test'

beforeEach(async () => {
  t = new TestHome()
  app = new App('app')
  appPort = await app.listen()
  lanPort = await findFreeLoopbackPort()
  // The local provider listens where the tests may reach: loopback only, on a free port.
  await t.run(['config', 'set', 'local.address', '127.0.0.1'])
  await t.run(['config', 'set', 'local.port', String(lanPort)])
  await t.run(['config', 'set', 'local.hostname', LAN_HOST])
})
afterEach(async () => {
  await app.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const endpointsDir = () => join(t.home, 'expose', 'endpoints')
async function exposeLocal(args: string[] = []) {
  const started = await t.json(['expose', 'start', String(appPort), '--provider', 'local', ...args])
  expect(started.exitCode, started.stderr).toBe(0)
  return started.body
}

describe('expose through the local provider', () => {
  it('publishes the port at http://<local.hostname>:<local.port>, through the proxy, with the Host header intact', async () => {
    const endpoint = await exposeLocal()
    expect(endpoint).toMatchObject({provider: 'local', url: `http://${LAN_HOST}:${lanPort}`, target: String(appPort), auth: false, status: 'up'})
    // local.address is one interface here: its address is the one a LAN visitor may type.
    expect(endpoint.urls).toEqual([`http://${LAN_HOST}:${lanPort}`, `http://127.0.0.1:${lanPort}`])
    expect(endpoint).not.toHaveProperty('password')

    const reply = await visit(lanPort, `${LAN_HOST}:${lanPort}`, {path: '/hello'})
    expect(reply.status).toBe(200)
    const seen = JSON.parse(reply.body)
    expect(seen).toMatchObject({app: 'app', url: '/hello'})
    expect(seen.headers).toMatchObject({host: `${LAN_HOST}:${lanPort}`, 'x-forwarded-host': `${LAN_HOST}:${lanPort}`, 'x-forwarded-for': '127.0.0.1'})

  })

  it('answers whatever Host the visitor used: the IP address, localhost, another name', async () => {
    await exposeLocal()
    for (const host of [`127.0.0.1:${lanPort}`, '192.168.1.20', 'localhost', 'elsewhere.test']) {
      const reply = await visit(lanPort, host)
      expect(reply.status, host).toBe(200)
      expect(JSON.parse(reply.body).headers.host, host).toBe(host)
    }
  })

  it('several at once, each on its own port from local.port up, and each keeps its port across restarts', async () => {
    const other = new App('other')
    const otherPort = await other.listen()
    try {
      const first = await exposeLocal()
      const second = await t.json(['expose', 'start', String(otherPort), '--provider', 'local'])
      expect(second.exitCode, second.stderr).toBe(0)
      const firstPort = Number(new URL(first.url).port)
      const secondPort = Number(new URL(second.body.url).port)
      expect(firstPort).toBe(lanPort)
      expect(secondPort).toBeGreaterThan(lanPort)
      expect(JSON.parse((await visit(firstPort, LAN_HOST)).body).app).toBe('app')
      expect(JSON.parse((await visit(secondPort, LAN_HOST)).body).app).toBe('other')
      expect(JSON.parse(readFileSync(join(endpointsDir(), `${second.body.id}.json`), 'utf8')).listenPort).toBe(secondPort)

      // Stopped in the other order than started: the second keeps its port, not the first free one.
      await t.run(['expose', 'stop', first.id])
      await t.run(['supervisor', 'stop'])
      await t.run(['supervisor', 'start'])
      const [listed] = await waitFor('the endpoint to be back up', async () => {
        const list = (await t.json(['expose', 'list'])).body
        return list[0]?.status === 'up' && list
      })
      expect(listed).toMatchObject({id: second.body.id, url: second.body.url})
      expect(JSON.parse((await visit(secondPort, LAN_HOST)).body).app).toBe('other')
      await expect(visit(firstPort, LAN_HOST)).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      await other.close()
    }
  })

  it('an endpoint file from before ports were kept is read, and gets local.port', async () => {
    const {id} = await exposeLocal()
    await t.run(['supervisor', 'stop'])
    const file = join(endpointsDir(), `${id}.json`)
    const {listenPort, ...old} = JSON.parse(readFileSync(file, 'utf8'))
    expect(listenPort).toBe(lanPort)
    writeFileSync(file, JSON.stringify(old))

    await t.run(['supervisor', 'start'])
    const [listed] = await waitFor('the endpoint to be back up', async () => {
      const list = (await t.json(['expose', 'list'])).body
      return list[0]?.status === 'up' && list
    })
    expect(listed.url).toBe(`http://${LAN_HOST}:${lanPort}`)
    expect(JSON.parse(readFileSync(file, 'utf8')).listenPort).toBe(lanPort)
  })

  it('with --auth: a password shown once, 401 without it, only a bcrypt hash on disk', async () => {
    const endpoint = await exposeLocal(['--auth'])
    expect(endpoint.auth).toBe(true)
    const {password} = endpoint
    // At least 128 bits: 22 or more base64url characters.
    expect(password).toMatch(/^[\w-]{22,}$/)

    const refused = await visit(lanPort, LAN_HOST)
    expect(refused.status).toBe(401)
    expect(refused.headers['www-authenticate']).toBe('Basic realm="tunnelctl"')
    expect((await visit(lanPort, LAN_HOST, {password: 'wrong'})).status).toBe(401)
    const allowed = await visit(lanPort, LAN_HOST, {password})
    expect(allowed.status).toBe(200)
    expect(JSON.parse(allowed.body).headers).not.toHaveProperty('authorization')

    const file = join(endpointsDir(), `${endpoint.id}.json`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const stored = readFileSync(file, 'utf8')
    expect(stored).not.toContain(password)
    expect(JSON.parse(stored)).toMatchObject({version: 1, id: endpoint.id, provider: 'local', target: String(appPort), auth: {username: 'tunnelctl', bcrypt: expect.stringMatching(/^\$2[aby]\$10\$/)}})

    // The human output shows it too, once.
    const human = await t.run(['expose', 'list'])
    expect(human.stdout).not.toContain(password)
  })

  it('update --auth makes a new password and the old one stops working; --no-auth opens it', async () => {
    const {id, password: first} = await exposeLocal(['--auth'])
    expect((await visit(lanPort, LAN_HOST, {password: first})).status).toBe(200)

    const updated = await t.json(['expose', 'update', id, '--auth'])
    expect(updated.exitCode).toBe(0)
    const second = updated.body.password
    expect(second).not.toBe(first)
    expect((await visit(lanPort, LAN_HOST, {password: first})).status).toBe(401)
    expect((await visit(lanPort, LAN_HOST, {password: second})).status).toBe(200)

    const opened = await t.json(['expose', 'update', id, '--no-auth'])
    expect(opened.body).toMatchObject({auth: false})
    expect(opened.body).not.toHaveProperty('password')
    expect((await visit(lanPort, LAN_HOST)).status).toBe(200)
    expect(JSON.parse(readFileSync(join(endpointsDir(), `${id}.json`), 'utf8')).auth).toBeNull()
  })

  it('a unix socket target', async () => {
    const socketPath = join(t.home, 'app.sock')
    const socketApp = new App('socket-app')
    await socketApp.listen({path: socketPath})
    try {
      const started = await t.json(['expose', 'start', `unix:${socketPath}`, '--provider', 'local'])
      expect(started.body).toMatchObject({target: `unix:${socketPath}`, status: 'up'})
      expect(JSON.parse((await visit(lanPort, LAN_HOST)).body).app).toBe('socket-app')
    } finally {
      await socketApp.close()
    }
  })

  it('comes back after the supervisor restarts, with the same auth', async () => {
    const {id, password} = await exposeLocal(['--auth'])
    await t.run(['supervisor', 'stop'])
    await expect(visit(lanPort, LAN_HOST)).rejects.toThrow(/ECONNREFUSED/)
    await t.run(['supervisor', 'start'])

    const listed = await waitFor('the endpoint to be back up', async () => {
      const list = (await t.json(['expose', 'list'])).body
      return list[0]?.status === 'up' && list
    })
    expect(listed).toEqual([expect.objectContaining({id, url: `http://${LAN_HOST}:${lanPort}`, auth: true, status: 'up'})])
    expect((await visit(lanPort, LAN_HOST)).status).toBe(401)
    expect((await visit(lanPort, LAN_HOST, {password})).status).toBe(200)
  })

  it('stop takes it down and deletes its file; killall does so for all', async () => {
    const {id} = await exposeLocal()
    const stopped = await t.run(['expose', 'stop', id])
    expect(stopped).toMatchObject({exitCode: 0, stdout: `Stopped endpoint ${id} (http://${LAN_HOST}:${lanPort}).`})
    expect(readdirSync(endpointsDir())).toEqual([])
    await expect(visit(lanPort, LAN_HOST)).rejects.toThrow(/ECONNREFUSED/)

    const again = await exposeLocal()
    const removed = await t.run(['expose', 'remove', again.id])
    expect(removed.exitCode).toBe(0)
    await exposeLocal()
    expect(await t.json(['expose', 'killall'])).toMatchObject({exitCode: 0, body: {stopped: 1}})
    expect((await t.json(['expose', 'list'])).body).toEqual([])
  })

  it('takes the next free port when local.port is taken by another program', async () => {
    const squatter = new App('squatter')
    await squatter.listen({port: lanPort})
    try {
      const endpoint = await exposeLocal()
      const port = Number(new URL(endpoint.url).port)
      expect(port).toBeGreaterThan(lanPort)
      expect(JSON.parse((await visit(port, LAN_HOST)).body).app).toBe('app')
      expect(JSON.parse((await visit(lanPort, LAN_HOST)).body).app).toBe('squatter')
    } finally {
      await squatter.close()
    }
  })

  it('an endpoint whose port another program took while the supervisor was down is unavailable, saying why, keeps its port, and comes back once it is free', async () => {
    const {id} = await exposeLocal()
    await t.run(['supervisor', 'stop'])
    const squatter = new App('squatter')
    await squatter.listen({port: lanPort})
    try {
      await t.run(['supervisor', 'start'])
      const [listed] = await waitFor('the endpoint to be found unavailable', async () => {
        const list = (await t.json(['expose', 'list'])).body
        return list[0]?.status === 'unavailable' && list
      })
      expect(listed).toMatchObject({id, url: null, urls: []})
      expect(listed.reason).toContain(`The local provider could not listen on 127.0.0.1:${lanPort}: another program has taken it`)
      expect(listed.reason).toContain('the endpoint is tried again until it comes up')
      expect(JSON.parse(readFileSync(join(endpointsDir(), `${id}.json`), 'utf8')).listenPort).toBe(lanPort)
    } finally {
      await squatter.close()
    }

    await waitFor('the endpoint to come back on its port once it is free', async () => (await t.json(['expose', 'list'])).body[0]?.status === 'up', 30_000)
    expect(JSON.parse((await visit(lanPort, LAN_HOST)).body).app).toBe('app')
  })

  it('a create that fails leaves nothing behind', async () => {
    // An address of no interface on this machine (TEST-NET-1): nothing can listen there.
    await t.run(['config', 'set', 'local.address', '192.0.2.1'])
    const failed = await t.run(['expose', 'start', String(appPort), '--provider', 'local'])
    expect(failed.exitCode).toBe(1)
    expect(failed.stderr).toContain(`The local provider could not listen on 192.0.2.1:${lanPort}`)
    expect((await t.json(['expose', 'list'])).body).toEqual([])
    expect(existsSync(endpointsDir()) ? readdirSync(endpointsDir()) : []).toEqual([])
  })
})

describe('proxy.responseTimeout', () => {
  it('gets a visitor of an app that accepts and never answers a 504 naming the target', async () => {
    const sockets = new Set<Socket>()
    const silent = createNetServer((socket) => sockets.add(socket))
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    try {
      const silentPort = (silent.address() as AddressInfo).port
      expect((await t.run(['config', 'set', 'proxy.responseTimeout', '1'])).exitCode).toBe(0)
      const started = await t.json(['expose', 'start', String(silentPort), '--provider', 'local'])
      expect(started.exitCode, started.stderr).toBe(0)

      let reply: HttpReply | undefined
      void visit(lanPort, LAN_HOST).then((settled) => (reply = settled))
      expect(await waitFor('an answer from the proxy while the app says nothing', () => reply, 20_000)).toMatchObject({
        status: 504,
        body: `tunnelctl: the app at localhost:${silentPort} did not answer within 1 s (proxy.responseTimeout)\n`,
      })
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })
})

describe('endpoint files', () => {
  it('are written atomically: no temp file is left, and the directory holds exactly one file per endpoint', async () => {
    const a = await exposeLocal(['--auth'])
    await t.json(['expose', 'update', a.id, '--no-auth'])
    await t.json(['expose', 'update', a.id, '--auth'])
    expect(readdirSync(endpointsDir())).toEqual([`${a.id}.json`])
  })
})

