import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {TestHome} from '../helpers/cli.js'
import {recordFigure} from '../helpers/figures.js'
import {App, basicAuthorization, type HttpReply, sendWithHost} from '../helpers/http.js'
import {Sshd, sshdUnavailable} from '../helpers/sshd.js'

/**
 * Who a visitor is, through the real supervisor: a header names the visitor only on the listener of
 * the provider that sets it itself (cloudflared: CF-Connecting-IP; tailscale serve: X-Forwarded-For).
 * Everywhere else the visitor writes those headers, and is known by its connection's address.
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

const FAILURES_ALLOWED = 10
const ATTEMPTS = 50

async function startWithAuth(args: string[]): Promise<{url: string; password: string}> {
  const started = await t.json(['expose', 'start', String(appPort), '--auth', ...args])
  expect(started.exitCode, started.stderr).toBe(0)
  return started.body
}

/** A request with a wrong (or the right) password that claims to come from `forged`, in every header a proxy might believe. */
function claiming(port: number, host: string, forged: string, password: string): Promise<HttpReply> {
  return sendWithHost(port, host, {headers: {'cf-connecting-ip': forged, 'x-forwarded-for': forged, authorization: basicAuthorization('tunnelctl', password)}})
}

/** ATTEMPTS wrong passwords, each from a new forged address, one after another; their statuses. */
async function forgedAttempts(port: number, host: string): Promise<number[]> {
  const statuses: number[] = []
  for (let index = 0; index < ATTEMPTS; index++) statuses.push((await claiming(port, host, `203.0.113.${index + 1}`, `wrong-${index}`)).status)
  return statuses
}

const throttledAfterTheLimit = [...Array(FAILURES_ALLOWED).fill(401), ...Array(ATTEMPTS - FAILURES_ALLOWED).fill(429)]

describe('forged visitor headers are counted against the real address', () => {
  it('through a local endpoint', async () => {
    const lanPort = await findFreeLoopbackPort()
    await t.run(['config', 'set', 'local.address', '127.0.0.1'])
    await t.run(['config', 'set', 'local.port', String(lanPort)])
    const {url, password} = await startWithAuth(['--provider', 'local'])
    const port = Number(new URL(url).port)

    expect(await forgedAttempts(port, new URL(url).host)).toEqual(throttledAfterTheLimit)
    expect((await claiming(port, new URL(url).host, '198.51.100.99', password)).status, 'the right password, under yet another forged address').toBe(429)

    recordFigure('Security', 'Forged visitor headers do not escape the throttle (local)', `${ATTEMPTS} wrong passwords, each with a new forged CF-Connecting-IP and X-Forwarded-For → ${FAILURES_ALLOWED} × 401, then 429`)
  })

  it.skipIf(sshdUnavailable() !== undefined)('through a custom provider: ssh -R to an sshd on loopback', async () => {
    const sshd = await Sshd.start()
    try {
      await t.run(['config', 'set', 'custom.myssh.command', sshd.reverseTunnelCommand()])
      await t.run(['config', 'set', 'custom.myssh.match', 'Allocated port (\\d+) for remote forward'])
      await t.run(['config', 'set', 'custom.myssh.url', 'http://127.0.0.1:{1}'])
      const {url, password} = await startWithAuth(['--provider', 'myssh'])
      const port = Number(new URL(url).port)

      expect(await forgedAttempts(port, new URL(url).host)).toEqual(throttledAfterTheLimit)
      expect((await claiming(port, new URL(url).host, '198.51.100.99', password)).status, 'the right password, under yet another forged address').toBe(429)

      recordFigure('Security', 'Forged visitor headers do not escape the throttle (ssh -R)', `${ATTEMPTS} wrong passwords through sshd, each with a new forged CF-Connecting-IP and X-Forwarded-For → ${FAILURES_ALLOWED} × 401, then 429`)
    } finally {
      await t.run(['supervisor', 'stop'])
      await sshd.stop()
    }
  })
})

describe('the header a provider sets names the visitor on its own listener only', () => {
  it.each([
    ['expose start --provider cloudflare', () => startWithAuth(['--provider', 'cloudflare'])],
    ['tunnel start', () => t.json(['tunnel', 'start', String(appPort), '--auth']).then((started) => started.body as {url: string; password: string})],
  ])("cloudflare, %s: CF-Connecting-IP on cloudflared's listener; not on the proxy's own port", async (how, start) => {
    const {url, password} = await start()
    const host = new URL(url).host
    const [cloudflared] = t.fakeRuns()
    const origin = cloudflared.args.find((arg) => arg.startsWith('http://localhost:'))
    const cloudflarePort = Number(new URL(origin!).port)
    const ownPort = (await t.json(['supervisor', 'status'])).body.proxyPort as number
    expect(cloudflarePort).not.toBe(ownPort)

    const oneVisitor: number[] = []
    for (let index = 0; index <= FAILURES_ALLOWED; index++) {
      oneVisitor.push((await sendWithHost(cloudflarePort, host, {headers: {'cf-connecting-ip': '198.51.100.1', authorization: basicAuthorization('tunnelctl', 'wrong')}})).status)
    }
    const anotherVisitor = await sendWithHost(cloudflarePort, host, {headers: {'cf-connecting-ip': '198.51.100.2', authorization: basicAuthorization('tunnelctl', password)}})
    expect(oneVisitor).toEqual([...Array(FAILURES_ALLOWED).fill(401), 429])
    expect(anotherVisitor.status, 'the right password from another visitor Cloudflare names').toBe(200)

    expect(await forgedAttempts(ownPort, host), "on the proxy's own port the header is the visitor's word").toEqual(throttledAfterTheLimit)

    recordFigure('Security', `CF-Connecting-IP is believed on cloudflared's listener only (${how})`, `cloudflared's listener: ${FAILURES_ALLOWED} wrong from one address → 429 for it, 200 for another; the proxy's own port: ${ATTEMPTS} forged addresses → 429 after ${FAILURES_ALLOWED}`)
  })

  it('tailscale: X-Forwarded-For, which tailscale serve replaces, on its listener; CF-Connecting-IP is not believed there', async () => {
    const {password} = await startWithAuth(['--provider', 'tailscale'])
    const host = 'devbox.tail4e7f2a.ts.net'
    const calls = readFileSync(join(t.fakeState, 'calls.log'), 'utf8')
    const tailscalePort = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(calls)![1])
    const as = (headers: Record<string, string>, secret: string) => sendWithHost(tailscalePort, host, {headers: {...headers, authorization: basicAuthorization('tunnelctl', secret)}})

    const oneVisitor: number[] = []
    for (let index = 0; index < FAILURES_ALLOWED; index++) oneVisitor.push((await as({'x-forwarded-for': '100.64.0.1', 'cf-connecting-ip': `203.0.113.${index}`}, 'wrong')).status)
    const sameVisitorOtherCloudflareClaim = await as({'x-forwarded-for': '100.64.0.1', 'cf-connecting-ip': '203.0.113.200'}, password)
    const anotherVisitor = await as({'x-forwarded-for': '100.64.0.2'}, password)

    expect(oneVisitor).toEqual(Array(FAILURES_ALLOWED).fill(401))
    expect(sameVisitorOtherCloudflareClaim.status).toBe(429)
    expect(anotherVisitor.status).toBe(200)

    recordFigure('Security', "X-Forwarded-For is believed on tailscale's listener only", `${FAILURES_ALLOWED} wrong from one X-Forwarded-For, each with a new CF-Connecting-IP → 429 for it; another X-Forwarded-For → 200`)
  })
})
