import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {App, visit} from '../helpers/http.js'
import {Sshd, sshdUnavailable} from '../helpers/sshd.js'
import {findFreeLoopbackPort} from '../../src/ports.js'

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

// Which provider `expose start` takes when none is named, what it warns about, how long it waits.
// What is available is set through PATH (the fakes, or nothing) and the fake tailscale's state.
const endpointFiles = () => (existsSync(join(t.home, 'expose', 'endpoints')) ? readdirSync(join(t.home, 'expose', 'endpoints')) : [])
const logOutTailscale = () => writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({backendState: 'NeedsLogin'}))

describe('expose start without --provider', () => {
  it('uses the one provider available besides local, which is always there', async () => {
    logOutTailscale()
    expect(await start([])).toMatchObject({provider: 'cloudflare', status: 'up', url: expect.stringMatching(/\.trycloudflare\.com$/)})
  })

  it('several available: exit 2, naming them (never local) and --provider; nothing is started', async () => {
    const refused = await t.run(['expose', 'start', String(appPort)])
    expect(refused).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'Error: Several providers are available: cloudflare, tailscale. Choose one with --provider <name>.',
    })
    expect(t.fakeRuns()).toEqual([])
    expect(endpointFiles()).toEqual([])
  })

  it('none available but local: exit 2, local is not used, and the error says how to set up each', async () => {
    // No cloudflared or tailscale, fake or real, for the CLI or the supervisor it starts.
    t.env.PATH = join(t.home, 'nothing-here')
    const lanPort = await findFreeLoopbackPort()
    await t.run(['config', 'set', 'local.address', '127.0.0.1'])
    await t.run(['config', 'set', 'local.port', String(lanPort)])

    const refused = await t.run(['expose', 'start', String(appPort)])
    expect(refused.exitCode).toBe(2)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatchInlineSnapshot(`
      "Error: No provider is available but local, which is used only when named: it puts the target on this machine's network, open to anyone there unless you add --auth. Give --provider local for that, or set one of these up:
        cloudflare: cloudflared was not found on PATH. Install it, then run this again:
            macOS:          brew install cloudflared
            Debian/Ubuntu:  add Cloudflare's apt repository (https://pkg.cloudflare.com/), then: sudo apt-get install cloudflared
            Windows:        winget install --id Cloudflare.cloudflared
            Anything else:  https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/
        tailscale: tailscale was not found on PATH. Install Tailscale (https://tailscale.com/download), log in with \`tailscale up\` (or the app), then run this again.
        your own: a command that opens a tunnel (ssh -R, …), with \`tunnelctl config set custom.<name>.command …\` and \`custom.<name>.match …\`"
    `)
    const json = await t.json(['expose', 'start', String(appPort)])
    expect(json).toMatchObject({exitCode: 2, body: {error: {code: 'BAD_INPUT', message: expect.stringContaining('--provider local')}}})

    await expect(visit(lanPort, 'devbox.test'), 'the local provider listens').rejects.toThrow(/ECONNREFUSED/)
    expect(endpointFiles()).toEqual([])
    expect((await t.json(['expose', 'list'])).body).toEqual([])
  })
})

describe('expose start warns and waits as tunnel start does', () => {
  it('warns when nothing listens on the port, on stderr and in --json, and not when something does', async () => {
    logOutTailscale()
    const idlePort = await findFreeLoopbackPort()
    const idle = await t.run(['expose', 'start', String(idlePort), '--provider', 'cloudflare'])
    expect(idle.exitCode, idle.stderr).toBe(0)
    expect(idle.stderr).toBe(`Warning: Nothing is listening on localhost:${idlePort} yet; visitors get 502 until something does.`)

    const json = await t.json(['expose', 'start', String(idlePort), '--provider', 'cloudflare', '--name', 'again'])
    expect(json.body.warnings).toEqual([`Nothing is listening on localhost:${idlePort} yet; visitors get 502 until something does.`])
    expect(json.stderr).toBe('')

    expect(await start(['--provider', 'cloudflare', '--name', 'served'])).toMatchObject({warnings: []})
  })

  it('a unix socket that is not there yet: a warning, and the endpoint serves once the app creates it', async () => {
    const socketPath = join(t.home, 'later', 'app.sock')
    const started = await t.json(['expose', 'start', `unix:${socketPath}`, '--provider', 'cloudflare'])
    expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
    expect(started.body).toMatchObject({target: `unix:${socketPath}`, status: 'up', warnings: [`Nothing is listening on unix:${socketPath} yet; visitors get 502 until something does.`]})

    mkdirSync(join(t.home, 'later'))
    const socketApp = new App('socket-app')
    await socketApp.listen({path: socketPath})
    try {
      const reply = await visit(await proxyPort(), new URL(started.body.url).host)
      expect(JSON.parse(reply.body).app).toBe('socket-app')
    } finally {
      await socketApp.close()
    }
  })

  it('--timeout: a provider with no URL by then is stopped, exit 1, and nothing is left', async () => {
    t.fakeMode('no-url')
    const failed = await t.run(['expose', 'start', String(appPort), '--provider', 'cloudflare', '--timeout', '1.5'])
    expect(failed.exitCode, failed.stderr).toBe(1)
    expect(failed.stderr).toMatch(/^Error: cloudflared printed no tunnel URL within 1\.5s; it was stopped\./)
    const [run] = t.fakeRuns()
    await waitFor('the fake cloudflared to be gone', () => !isAlive(run.pid))
    expect(endpointFiles()).toEqual([])
    expect((await t.json(['expose', 'list'])).body).toEqual([])
  })
})

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
    expect(endpointFiles()).toEqual([])
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

    await waitFor('the endpoint to come back', async () => (await t.json(['expose', 'list'])).body[0]?.status === 'up')
    expect(serveConfig().AllowFunnel).toEqual({[`${DOMAIN}:443`]: true})
  })

  it('logged out: the endpoint is listed as unavailable, with what to do', async () => {
    await start(['--provider', 'tailscale'])
    await t.run(['supervisor', 'stop'])
    writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({backendState: 'NeedsLogin', serve: null}))
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
