import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {App, visit} from '../helpers/http.js'

/**
 * An endpoint whose provider is not available when the supervisor starts (tailscale not up yet after a
 * boot) is tried again with the backoff of a crashed provider process, and comes up once it can.
 */
const DOMAIN = 'devbox.tail4e7f2a.ts.net'

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

const setNode = (node: Record<string, unknown>) => writeFileSync(join(t.fakeState, 'state.json'), JSON.stringify(node))
/** How many times the fake tailscale was asked whether the node is up. */
const statusCalls = () => {
  const file = join(t.fakeState, 'calls.log')
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('["status"')).length : 0
}

async function listed(): Promise<Record<string, any>> {
  const {exitCode, body} = await t.json(['expose', 'list'])
  expect(exitCode).toBe(0)
  return body[0]
}

it('an endpoint whose tailscale is logged out at start is tried again, says when, and comes up once tailscale is logged in', async () => {
  const started = await t.json(['expose', 'start', String(appPort), '--provider', 'tailscale'])
  expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
  const {id} = started.body
  expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)

  setNode({backendState: 'NeedsLogin', serve: null})
  // Any command that changes something starts a supervisor, which restores the endpoint.
  expect((await t.run(['tunnel', 'killall'])).exitCode).toBe(0)
  const unavailable = await waitFor('the endpoint to be listed unavailable with its next try', async () => {
    const endpoint = await listed()
    return endpoint?.status === 'unavailable' && typeof endpoint.nextTryAt === 'string' && endpoint
  })
  expect(unavailable.reason).toContain('tailscale up')
  expect(Number.isNaN(Date.parse(unavailable.nextTryAt)), `nextTryAt ${unavailable.nextTryAt}`).toBe(false)
  // Listed between two tries: during one, there is no next try to tell of.
  const line = new RegExp(`^${id} unavailable, next try in \\d+s: .*tailscale up`, 'm')
  await waitFor(`expose list to print a line like ${line}`, async () => line.test((await t.run(['expose', 'list'])).stdout))

  const asked = statusCalls()
  await waitFor('the supervisor to ask tailscale again', () => statusCalls() > asked, 30_000)
  expect((await listed()).status, 'still logged out').toBe('unavailable')

  setNode({serve: null})
  const up = await waitFor('the endpoint to come up once tailscale is logged in', async () => {
    const endpoint = await listed()
    return endpoint?.status === 'up' && endpoint
  }, 30_000)
  expect(up).toMatchObject({id, url: `https://${DOMAIN}`, reason: null, nextTryAt: null})
  const {proxyPort} = (await t.json(['supervisor', 'status'])).body
  expect(JSON.parse((await visit(proxyPort, DOMAIN)).body).app).toBe('app')
  expect(t.eventsLog().filter((e) => e.type === 'expose.unavailable'), 'one event however many tries').toHaveLength(1)
  expect((await t.run(['expose', 'list'])).stdout).not.toContain('unavailable')
})

it('an endpoint stopped while it waits for its next try is not published when that try was due', async () => {
  const started = await t.json(['expose', 'start', String(appPort), '--provider', 'tailscale'])
  expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
  expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
  setNode({backendState: 'NeedsLogin', serve: null})
  expect((await t.run(['tunnel', 'killall'])).exitCode).toBe(0)
  const waiting = await waitFor('the endpoint to be listed unavailable with its next try', async () => {
    const endpoint = await listed()
    return endpoint?.status === 'unavailable' && typeof endpoint.nextTryAt === 'string' && endpoint
  })

  expect((await t.run(['expose', 'stop', started.body.id])).exitCode).toBe(0)
  setNode({serve: null})
  const due = Date.parse(waiting.nextTryAt) + 1000
  await waitFor('the try that was due to have passed', () => Date.now() > due, 30_000)
  expect((await t.json(['expose', 'list'])).body).toEqual([])
  expect(JSON.parse(readFileSync(join(t.fakeState, 'state.json'), 'utf8')).serve, 'the node serves nothing').toBeNull()
})
