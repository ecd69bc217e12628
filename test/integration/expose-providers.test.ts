import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {App, visit} from '../helpers/http.js'
import {Sshd, sshdUnavailable} from '../helpers/sshd.js'

/**
 * Each provider end to end: the real CLI, a real supervisor and proxy, and the app behind them.
 * cloudflared and tailscale are the fakes under test/fixtures/bin; what their real counterparts would
 * relay from the internet is sent here straight to the proxy, with the Host header they would send.
 */
let t: TestHome
let app: App
let appPort: number

beforeEach(async () => {
  t = new TestHome()
  app = new App('app')
  appPort = await app.listen()
})
afterEach(async () => {
  await app.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function proxyPort(): Promise<number> {
  return (await t.json(['supervisor', 'status'])).body.proxyPort
}

async function start(args: string[]) {
  const started = await t.json(['expose', 'start', String(appPort), ...args])
  expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
  return started.body
}

describe('cloudflare', () => {
  it('runs a quick tunnel at the proxy; its hostname is routed to the app, behind auth', async () => {
    const endpoint = await start(['--provider', 'cloudflare', '--auth'])
    expect(endpoint).toMatchObject({provider: 'cloudflare', mode: 'public', status: 'up', url: expect.stringMatching(/^https:\/\/[a-z-]+\.trycloudflare\.com$/)})
    const host = new URL(endpoint.url).host
    const port = await proxyPort()
    const [run] = t.fakeRuns()
    expect(run.args).toContain(`http://localhost:${port}`)
    expect(run.args).toContain('--no-autoupdate')

    expect((await visit(port, host)).status).toBe(401)
    const reply = await visit(port, host, {password: endpoint.password, path: '/through'})
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({app: 'app', url: '/through'})
  })

  it('a crashed cloudflared is restarted after a backoff, under a new URL that is routed in place of the old', async () => {
    t.fakeMode('crash-after-start')
    const endpoint = await start(['--provider', 'cloudflare'])
    t.fakeMode('ok')

    const changed = await waitFor('a new URL', () => t.eventsLog().find((e) => e.type === 'expose.url_changed'))
    expect(changed).toMatchObject({endpoint: endpoint.id, oldUrl: endpoint.url, newUrl: expect.stringMatching(/trycloudflare\.com$/)})
    const restarting = t.eventsLog().find((e) => e.type === 'expose.restarting')
    expect(restarting).toMatchObject({provider: 'cloudflare', endpoint: endpoint.id, restarts: 1, delayMs: 1000, reason: 'exited with code 2'})
    expect(restarting!.lastLines.join('\n')).toContain('panic:')

    const [listed] = (await t.json(['expose', 'list'])).body
    expect(listed).toMatchObject({id: endpoint.id, url: changed.newUrl, status: 'up', restarts: 1})
    const port = await proxyPort()
    expect(JSON.parse((await visit(port, new URL(changed.newUrl).host)).body).app).toBe('app')
    expect((await visit(port, new URL(endpoint.url).host)).status).toBe(404)
    expect(t.fakeRuns().filter((run) => isAlive(run.pid))).toHaveLength(1)

    const {stdout} = await t.run(['events'])
    expect(stdout).toContain(`expose.restarting  ${endpoint.id}  cloudflare  exited with code 2; restart 1 in 1s\n`)
    expect(stdout).toContain('    | panic: runtime error')
    expect(stdout).toContain(`expose.url_changed  ${endpoint.id}  ${endpoint.url} -> ${changed.newUrl}`)
  })

  it('a start whose command is interrupted before the URL comes leaves nothing behind', async () => {
    t.fakeMode('no-url')
    const client = t.spawn(['expose', 'start', String(appPort), '--provider', 'cloudflare'])
    const [run] = await waitFor('cloudflared to start', () => t.fakeRuns().length === 1 && t.fakeRuns())
    client.kill('SIGINT')
    await client
    await waitFor('cloudflared to be stopped', () => !isAlive(run.pid))
    expect((await t.json(['expose', 'list'])).body).toEqual([])
    expect(existsSync(join(t.home, 'expose', 'endpoints')) ? readdirSync(join(t.home, 'expose', 'endpoints')) : []).toEqual([])
  })

  it('with a token and a domain, one cloudflared serves every endpoint at <name>.<domain>', async () => {
    const token = Buffer.from(JSON.stringify({a: 'account', t: '6ff42ae2-765d-4adf-8112-31c55c1551ef', s: 'c2VjcmV0'})).toString('base64')
    await t.run(['config', 'set', 'cloudflare.token', token])
    await t.run(['config', 'set', 'cloudflare.domain', 'example.test'])
    const api = await start(['--provider', 'cloudflare', '--name', 'api'])
    const other = await start(['--provider', 'cloudflare'])
    expect(api.url).toBe('https://api.example.test')
    expect(other.url).toBe(`https://${other.id}.example.test`)
    const runs = t.fakeRuns()
    expect(runs).toHaveLength(1)
    expect(runs[0].args.join(' ')).not.toContain(token)

    const port = await proxyPort()
    expect(JSON.parse((await visit(port, 'api.example.test')).body).app).toBe('app')
    await t.run(['expose', 'stop', api.id])
    expect(isAlive(runs[0].pid)).toBe(true)
    await t.run(['expose', 'stop', other.id])
    await waitFor('the shared cloudflared to stop', () => !isAlive(runs[0].pid))
  })
})

describe('tailscale', () => {
  const DOMAIN = 'devbox.tail4e7f2a.ts.net'
  const serveConfig = () => JSON.parse(readFileSync(join(t.fakeState, 'state.json'), 'utf8')).serve ?? null

  it('serves the proxy on the tailnet (private) with --bg; stop puts the node back as it was', async () => {
    const endpoint = await start(['--provider', 'tailscale'])
    expect(endpoint).toMatchObject({provider: 'tailscale', mode: 'private', url: `https://${DOMAIN}`, status: 'up'})
    const port = await proxyPort()
    const calls = readFileSync(join(t.fakeState, 'calls.log'), 'utf8')
    expect(calls).toContain(JSON.stringify(['serve', '--bg', '--yes', '--https=443', `http://127.0.0.1:${port}`]))
    expect(JSON.stringify(serveConfig())).toContain(`http://127.0.0.1:${port}`)
    expect(JSON.parse((await visit(port, DOMAIN)).body).app).toBe('app')

    const second = await t.run(['expose', 'start', '4000', '--provider', 'tailscale'])
    expect(second.exitCode).toBe(1)
    expect(second.stderr).toContain('one endpoint per node')

    await t.run(['expose', 'stop', endpoint.id])
    expect(serveConfig()).toBeNull()
  })

  it('--mode public uses funnel; the supervisor takes it down when it stops and puts it back when it starts', async () => {
    const endpoint = await start(['--provider', 'tailscale', '--mode', 'public'])
    expect(endpoint.mode).toBe('public')
    expect(readFileSync(join(t.fakeState, 'calls.log'), 'utf8')).toContain('"funnel","--bg","--yes","--https=443"')
    await t.run(['supervisor', 'stop'])
    expect(serveConfig()).toBeNull()

    await t.run(['supervisor', 'start'])
    await waitFor('the endpoint to come back', async () => (await t.json(['expose', 'list'])).body[0]?.status === 'up')
    expect(serveConfig().AllowFunnel).toEqual({[`${DOMAIN}:443`]: true})
  })

  it('logged out: the endpoint is listed as unavailable, with what to do', async () => {
    await start(['--provider', 'tailscale'])
    await t.run(['supervisor', 'stop'])
    writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({backendState: 'NeedsLogin', serve: null}))
    await t.run(['supervisor', 'start'])
    const [listed] = await waitFor('the endpoint to be restored', async () => {
      const list = (await t.json(['expose', 'list'])).body
      return list[0]?.status === 'unavailable' && list
    })
    expect(listed.reason).toContain('tailscale up')
    expect(t.eventsLog().filter((e) => e.type === 'expose.unavailable')).toHaveLength(1)
  })
})

describe.skipIf(sshdUnavailable())('a custom provider: ssh -R to an sshd on loopback', () => {
  let sshd: Sshd
  beforeEach(async () => {
    sshd = await Sshd.start()
  })
  afterEach(async () => {
    await t.run(['supervisor', 'stop'])
    await sshd.stop()
  })

  it('publishes at the port sshd allocated, and a request there reaches the app', async () => {
    await t.run(['config', 'set', 'custom.myssh.command', sshd.reverseTunnelCommand()])
    await t.run(['config', 'set', 'custom.myssh.match', 'Allocated port (\\d+) for remote forward'])
    await t.run(['config', 'set', 'custom.myssh.url', 'http://localhost:{1}'])
    const endpoint = await start(['--provider', 'myssh'])
    expect(endpoint).toMatchObject({provider: 'myssh', url: expect.stringMatching(/^http:\/\/localhost:\d+$/), status: 'up'})

    const remotePort = Number(new URL(endpoint.url).port)
    const reply = await visit(remotePort, `localhost:${remotePort}`, {path: '/over-ssh'})
    expect(JSON.parse(reply.body)).toMatchObject({app: 'app', url: '/over-ssh'})
  })
})

if (sshdUnavailable()) console.warn(`skipping the ssh -R test: ${sshdUnavailable()}`)
