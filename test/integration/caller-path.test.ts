import {readFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {FIXTURE_BIN, TestHome, waitFor} from '../helpers/cli.js'
import {App, visit} from '../helpers/http.js'

/**
 * A start runs what it asks for with the PATH of the command that asked: a cloudflared (or tailscale,
 * or a custom provider's program) installed after the supervisor started is found. The supervisor is
 * started here with a PATH that has node (the fakes are node scripts) but none of the fakes.
 */
const WITHOUT_FAKES = [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter)
const WITH_FAKES = [FIXTURE_BIN, WITHOUT_FAKES].join(delimiter)

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

function endpointFile(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(t.home, 'expose', 'endpoints', `${id}.json`), 'utf8'))
}

/** Nothing the supervisor records as an event carries a PATH. */
function expectNoPathInEvents(): void {
  expect(readFileSync(join(t.home, 'events.log'), 'utf8')).not.toContain(FIXTURE_BIN)
}

describe('the PATH of the command that asks', () => {
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
