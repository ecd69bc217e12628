import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {App, visit} from '../helpers/http.js'
import {findFreeLoopbackPort} from '../../src/ports.js'

/**
 * What `expose start` decides before and around publishing: which provider when none is named, what
 * it warns about, how long it waits. The real CLI and supervisor; what is available is set through
 * PATH (the fake cloudflared and tailscale in test/fixtures/bin, or nothing) and the fake tailscale's state.
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

const endpointFiles = () => (existsSync(join(t.home, 'expose', 'endpoints')) ? readdirSync(join(t.home, 'expose', 'endpoints')) : [])
const logOutTailscale = () => writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify({backendState: 'NeedsLogin'}))

describe('without --provider', () => {
  it('uses the one provider available besides local, which is always there', async () => {
    logOutTailscale()
    const started = await t.json(['expose', 'start', String(appPort)])
    expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
    expect(started.body).toMatchObject({provider: 'cloudflare', status: 'up', url: expect.stringMatching(/\.trycloudflare\.com$/)})
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

describe('what expose start warns about and waits for, as tunnel start does', () => {
  it('warns when nothing listens on the port, on stderr and in --json, and not when something does', async () => {
    logOutTailscale()
    const idlePort = await findFreeLoopbackPort()
    const idle = await t.run(['expose', 'start', String(idlePort), '--provider', 'cloudflare'])
    expect(idle.exitCode, idle.stderr).toBe(0)
    expect(idle.stderr).toBe(`Warning: Nothing is listening on localhost:${idlePort} yet; visitors get 502 until something does.`)

    const json = await t.json(['expose', 'start', String(idlePort), '--provider', 'cloudflare', '--name', 'again'])
    expect(json.body.warnings).toEqual([`Nothing is listening on localhost:${idlePort} yet; visitors get 502 until something does.`])
    expect(json.stderr).toBe('')

    const listening = await t.json(['expose', 'start', String(appPort), '--provider', 'cloudflare', '--name', 'served'])
    expect(listening).toMatchObject({exitCode: 0, stderr: '', body: {warnings: []}})
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
      const proxyPort = (await t.json(['supervisor', 'status'])).body.proxyPort
      const reply = await visit(proxyPort, new URL(started.body.url).host)
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
