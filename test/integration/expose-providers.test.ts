import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {FIXTURE_BIN, isAlive, TestHome, waitFor} from '../helpers/cli.js'
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

/** The first endpoint `expose list --json` gives. */
async function listed(): Promise<Record<string, any>> {
  return (await t.json(['expose', 'list'])).body[0]
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
    const [run] = t.fakeRuns()
    // Its own listener of the proxy, where CF-Connecting-IP names the visitor.
    const origin = run.args.find((arg) => /^http:\/\/localhost:\d+$/.test(arg))
    const port = Number(new URL(origin!).port)
    expect(port).not.toBe(await proxyPort())
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
    const calls = readFileSync(join(t.fakeState, 'calls.log'), 'utf8')
    // Its own listener of the proxy, where X-Forwarded-For names the visitor.
    const port = Number(/"serve","--bg","--yes","--https=443","http:\/\/127\.0\.0\.1:(\d+)"/.exec(calls)?.[1])
    expect(port).not.toBe(await proxyPort())
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

  /** How many times the fake tailscale was asked whether the node is up. */
  const statusCalls = () => {
    const file = join(t.fakeState, 'calls.log')
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('["status"')).length : 0
  }

  /** A tailscale endpoint, restored by a supervisor that starts while the node is logged out: listed unavailable, with its next try. */
  async function restoredLoggedOut(): Promise<Record<string, any>> {
    await start(['--provider', 'tailscale'])
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({backendState: 'NeedsLogin', serve: null}))
    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    return waitFor('the endpoint to be listed unavailable with its next try', async () => {
      const endpoint = await listed()
      return endpoint?.status === 'unavailable' && typeof endpoint.nextTryAt === 'string' && endpoint
    })
  }

  it('logged out at start: listed unavailable with what to do and when it is tried next; tried again until it comes up', async () => {
    const {id, reason, nextTryAt} = await restoredLoggedOut()
    expect(reason).toContain('tailscale up')
    expect(Number.isNaN(Date.parse(nextTryAt)), `nextTryAt ${nextTryAt}`).toBe(false)
    // Listed between two tries: during one, there is no next try to tell of.
    const line = new RegExp(`^${id} unavailable, next try in \\d+s: `, 'm')
    const human = await waitFor(`expose list to print a line like ${line}`, async () => {
      const {stdout} = await t.run(['expose', 'list'])
      return line.test(stdout) && stdout
    })
    // The port and its padding are always the TARGET column's 6 characters and the 2 between columns.
    expect(human.replaceAll(id, 'a1a1a1a1').replace(new RegExp(`${appPort} +`), 'PORT    ').replace(/in \d+s/, 'in Ns')).toMatchInlineSnapshot(`
      "ID        PROVIDER   URL  TARGET  AUTH  STATUS       UPTIME  RESTARTS  REQUESTS
      a1a1a1a1  tailscale  -    PORT    no    unavailable  -       0         0

      a1a1a1a1 unavailable, next try in Ns: Tailscale is logged out. Log in with \`tailscale up\`, then try again."
    `)

    const asked = statusCalls()
    await waitFor('the supervisor to ask tailscale again', () => statusCalls() > asked, 30_000)
    expect((await listed()).status, 'still logged out').toBe('unavailable')

    writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({serve: null}))
    const up = await waitFor('the endpoint to come up once tailscale is logged in', async () => {
      const endpoint = await listed()
      return endpoint?.status === 'up' && endpoint
    }, 30_000)
    expect(up).toMatchObject({id, url: `https://${DOMAIN}`, reason: null, nextTryAt: null})
    expect(JSON.parse((await visit(await proxyPort(), DOMAIN)).body).app).toBe('app')
    expect(t.eventsLog().filter((e) => e.type === 'expose.unavailable'), 'one event however many tries').toHaveLength(1)
    expect(t.eventsLog().filter((e) => e.type === 'expose.up'), 'brought back by a try, it says where').toMatchObject([{endpoint: id, url: `https://${DOMAIN}`}])
    expect((await t.run(['expose', 'list'])).stdout).not.toContain('unavailable')
  })

  it('an endpoint stopped while it waits for its next try is not published when that try was due', async () => {
    const {id, nextTryAt} = await restoredLoggedOut()
    expect((await t.run(['expose', 'stop', id])).exitCode).toBe(0)
    writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({serve: null}))
    const due = Date.parse(nextTryAt) + 1000
    await waitFor('the try that was due to have passed', () => Date.now() > due, 30_000)
    expect((await t.json(['expose', 'list'])).body).toEqual([])
    expect(serveConfig(), 'the node serves nothing').toBeNull()
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

  it('two endpoints on one ssh server, at one host and two ports, each reach their own app', async () => {
    const other = new App('other')
    const otherPort = await other.listen()
    try {
      await t.run(['config', 'set', 'custom.myssh.command', sshd.reverseTunnelCommand()])
      await t.run(['config', 'set', 'custom.myssh.match', 'Allocated port (\\d+) for remote forward'])
      await t.run(['config', 'set', 'custom.myssh.url', 'http://127.0.0.1:{1}'])
      const first = await start(['--provider', 'myssh'])
      const second = await t.json(['expose', 'start', String(otherPort), '--provider', 'myssh'])
      expect(second.exitCode, second.stderr).toBe(0)
      expect(new URL(second.body.url).hostname).toBe(new URL(first.url).hostname)

      for (const [endpoint, name] of [[first, 'app'], [second.body, 'other']]) {
        const {port, host} = new URL(endpoint.url)
        expect(JSON.parse((await visit(Number(port), host)).body).app, endpoint.url).toBe(name)
      }
      // The default port is no port: Host 127.0.0.1:80 is 127.0.0.1, which no endpoint has.
      expect((await visit(Number(new URL(first.url).port), '127.0.0.1:80')).status).toBe(404)
    } finally {
      await other.close()
    }
  })
})

if (sshdUnavailable()) console.warn(`skipping the ssh -R test: ${sshdUnavailable()}`)

/**
 * A start runs what it asks for with the PATH of the command that asked: a cloudflared (or tailscale,
 * or a custom provider's program) installed after the supervisor started is found. The supervisor is
 * started here with a PATH that has node (the fakes are node scripts) but none of the fakes.
 */
describe('the PATH of the command that asks', () => {
  const WITHOUT_FAKES = [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter)
  const WITH_FAKES = [FIXTURE_BIN, WITHOUT_FAKES].join(delimiter)
  const endpointFile = (id: string) => JSON.parse(readFileSync(join(t.home, 'expose', 'endpoints', `${id}.json`), 'utf8'))
  /** Nothing the supervisor records as an event carries a PATH. */
  const expectNoPathInEvents = () => expect(readFileSync(join(t.home, 'events.log'), 'utf8')).not.toContain(FIXTURE_BIN)

  it('tunnel start finds a cloudflared on its own PATH that the running supervisor\'s PATH lacks', async () => {
    const failed = await t.run(['tunnel', 'start', String(appPort)], {PATH: WITHOUT_FAKES})
    expect(failed.exitCode, failed.stderr).toBe(1)
    expect(failed.stderr).toContain('cloudflared was not found on PATH')
    const pid = t.supervisorPid()
    expect(pid, 'the failed start left a supervisor running').toBeDefined()

    const started = await t.run(['tunnel', 'start', String(appPort), '--json'], {PATH: WITH_FAKES})
    expect(started.exitCode, started.stderr).toBe(0)
    const tunnel = JSON.parse(started.stdout)
    expect(tunnel).toMatchObject({port: appPort, status: 'up', url: expect.stringMatching(/^https:\/\/[a-z-]+\.trycloudflare\.com$/)})
    expect(t.supervisorPid(), 'the same supervisor').toBe(pid)
    expect(t.fakeRuns().map((run) => run.args.slice(-2)), 'one cloudflared, the fake').toEqual([['--url', `http://localhost:${appPort}`]])
    expectNoPathInEvents()
  })

  it.each([
    ['cloudflare', 'cloudflared was not found on PATH', /^https:\/\/[a-z-]+\.trycloudflare\.com$/],
    ['tailscale', 'tailscale was not found on PATH', /^https:\/\/devbox\.tail4e7f2a\.ts\.net$/],
  ])(
    'expose start --provider %s finds its binary on the caller\'s PATH, and a restarted supervisor restores the endpoint with the PATH saved with it',
    async (provider, missing, url) => {
      const refused = await t.run(['expose', 'start', String(appPort), '--provider', provider], {PATH: WITHOUT_FAKES})
      expect(refused.exitCode, refused.stderr).toBe(1)
      expect(refused.stderr).toContain(missing)
      const pid = t.supervisorPid()
      expect(pid, 'the refused start left a supervisor running').toBeDefined()

      const started = await t.run(['expose', 'start', String(appPort), '--provider', provider, '--json'], {PATH: WITH_FAKES})
      expect(started.exitCode, started.stderr).toBe(0)
      const endpoint = JSON.parse(started.stdout)
      expect(endpoint).toMatchObject({provider, status: 'up', url: expect.stringMatching(url)})
      expect(t.supervisorPid(), 'the same supervisor').toBe(pid)
      expect(endpointFile(endpoint.id).searchPath).toBe(WITH_FAKES)

      expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
      // A command that changes something starts the next supervisor, again without the fakes on its PATH.
      const next = await t.run(['tunnel', 'start', String(appPort)], {PATH: WITHOUT_FAKES})
      expect(next.stderr).toContain('cloudflared was not found on PATH')
      const restored = await waitFor(
        'the endpoint to be restored with the PATH saved with it',
        async () => {
          const [listed] = (await t.json(['expose', 'list'])).body
          return listed?.status === 'up' && listed
        },
        30_000,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; expose list says ${JSON.stringify((await t.json(['expose', 'list'])).body)}`)
      })
      expect(t.supervisorPid(), 'a new supervisor').not.toBe(pid)
      expect(restored.url).toMatch(url)
      expect(JSON.parse((await visit(await proxyPort(), new URL(restored.url).host)).body).app).toBe('app')
      expectNoPathInEvents()
    },
  )

  it('an endpoint file without a search path (an older tunnelctl\'s) is restored with the supervisor\'s own PATH', async () => {
    const {id} = await start(['--provider', 'cloudflare'])
    const {searchPath, ...older} = endpointFile(id)
    expect(searchPath, 'the file this tunnelctl wrote').toContain(FIXTURE_BIN)
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    writeFileSync(join(t.home, 'expose', 'endpoints', `${id}.json`), JSON.stringify(older))

    expect((await t.run(['tunnel', 'killall'], {PATH: WITHOUT_FAKES})).exitCode).toBe(0)
    const unavailable = await waitFor('the endpoint to be unavailable under a supervisor without cloudflared', async () => {
      const endpoint = await listed()
      return endpoint?.status === 'unavailable' && endpoint
    })
    expect(unavailable.reason).toContain('cloudflared was not found on PATH')

    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    expect((await t.run(['tunnel', 'killall'], {PATH: WITH_FAKES})).exitCode).toBe(0)
    await waitFor('the endpoint to come up under a supervisor with cloudflared', async () => (await listed())?.status === 'up', 30_000)
  })

  it('a custom provider\'s command is run by /bin/sh with the caller\'s PATH', async () => {
    for (const [part, value] of [['command', 'fake-forwarder {port}'], ['match', 'Forwarding https://(\\S+)'], ['url', 'https://{1}']]) {
      expect((await t.run(['config', 'set', `custom.relay.${part}`, value])).exitCode).toBe(0)
    }

    const refused = await t.run(['expose', 'start', String(appPort), '--provider', 'relay'], {PATH: WITHOUT_FAKES})
    expect(refused.exitCode, refused.stderr).toBe(1)
    expect(refused.stderr).toContain('fake-forwarder')

    const started = await t.run(['expose', 'start', String(appPort), '--provider', 'relay', '--json'], {PATH: WITH_FAKES})
    expect(started.exitCode, started.stderr).toBe(0)
    const endpoint = JSON.parse(started.stdout)
    expect(endpoint).toMatchObject({provider: 'relay', status: 'up', url: expect.stringMatching(/^https:\/\/fwd-\d+\.tunnel\.test$/)})
    expect(JSON.parse((await visit(await proxyPort(), new URL(endpoint.url).host)).body).app).toBe('app')
    expectNoPathInEvents()
  })
})
