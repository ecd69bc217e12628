import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {TestHome, waitFor} from '../helpers/cli.js'
import {WebhookReceiver} from '../helpers/webhook-receiver.js'

/** What stopping and starting the supervisor does to the endpoints, and what it tells about them. */
let t: TestHome
let receiver: WebhookReceiver
let lanPort: number
const LAN_HOST = 'devbox.test'

beforeEach(async () => {
  t = new TestHome()
  receiver = new WebhookReceiver()
  lanPort = await findFreeLoopbackPort()
  // The local provider listens where the tests may reach: loopback only, on a free port.
  for (const [key, value] of [
    ['local.address', '127.0.0.1'],
    ['local.port', String(lanPort)],
    ['local.hostname', LAN_HOST],
    ['notify.webhook', await receiver.start()],
  ]) {
    expect((await t.run(['config', 'set', key, value])).exitCode).toBe(0)
  }
})
afterEach(async () => {
  await receiver.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const endpointFile = (id: string) => join(t.home, 'expose', 'endpoints', `${id}.json`)

async function expose(provider: string) {
  const started = await t.json(['expose', 'start', '3000', '--provider', provider])
  expect(started.exitCode, started.stderr).toBe(0)
  return started.body as {id: string; url: string}
}

/** A supervisor again after `supervisor stop`: a command that changes something starts one, and it restores the endpoints. */
async function startSupervisor(): Promise<void> {
  const started = await t.run(['tunnel', 'start', '4000'])
  expect(started.exitCode, started.stderr).toBe(0)
}

describe('supervisor stop', () => {
  it('says what it stopped, tunnels and endpoints, and that the endpoints stay saved', async () => {
    await t.run(['tunnel', 'start', '4001'])
    const endpoints = [await expose('cloudflare'), await expose('cloudflare'), await expose('local')]
    const pid = t.supervisorPid()
    expect((await t.run(['supervisor', 'stop'])).stdout).toBe(
      `Stopped the supervisor (pid ${pid}), 1 tunnel and 3 endpoints (saved: they come back when the supervisor starts again).`,
    )
    for (const {id} of endpoints) expect(JSON.parse(readFileSync(endpointFile(id), 'utf8')).id).toBe(id)

    await startSupervisor()
    await waitFor('the endpoints to be back', async () => (await t.json(['expose', 'list'])).body.filter((e: any) => e.status === 'up').length === 3)
    const stopped = await t.json(['supervisor', 'stop'])
    expect(stopped.exitCode).toBe(0)
    expect(Object.keys(stopped.body)).toEqual(['wasRunning', 'stopped', 'endpoints'])
    expect(stopped.body.wasRunning).toBe(true)
    expect(stopped.body.stopped).toEqual([expect.objectContaining({port: 4000, status: 'up'})])
    expect(stopped.body.endpoints.map((e: any) => e.id).sort()).toEqual(endpoints.map((e) => e.id).sort())
    expect(stopped.body.endpoints[0]).toMatchObject({provider: expect.any(String), url: expect.any(String), status: 'up'})

    expect(await t.json(['supervisor', 'stop'])).toMatchObject({body: {wasRunning: false, stopped: [], endpoints: []}})
  })

  it('with tunnels only, says so as before', async () => {
    await t.run(['tunnel', 'start', '4001'])
    const pid = t.supervisorPid()
    expect((await t.run(['supervisor', 'stop'])).stdout).toBe(`Stopped the supervisor (pid ${pid}) and 1 tunnel.`)
  })
})

describe('endpoints restored by a new supervisor', () => {
  it('each record expose.up with its URL, and expose.url_changed when the URL is not the one last known', async () => {
    const quick = await expose('cloudflare')
    const local = await expose('local')
    expect(JSON.parse(readFileSync(endpointFile(quick.id), 'utf8')).lastUrl).toBe(quick.url)
    await t.run(['supervisor', 'stop'])

    await startSupervisor()
    const ups = await waitFor('both endpoints to be up again', () => {
      const found = t.eventsLog().filter((e) => e.type === 'expose.up')
      return found.length === 2 && found
    })
    const newQuickUrl = (await t.json(['expose', 'list'])).body.find((e: any) => e.id === quick.id).url
    expect(newQuickUrl).not.toBe(quick.url)
    expect(ups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({endpoint: quick.id, provider: 'cloudflare', url: newQuickUrl}),
        expect.objectContaining({endpoint: local.id, provider: 'local', url: `http://${LAN_HOST}:${lanPort}`}),
      ]),
    )
    expect(t.eventsLog().filter((e) => e.type === 'expose.url_changed')).toEqual([
      expect.objectContaining({endpoint: quick.id, oldUrl: quick.url, newUrl: newQuickUrl}),
    ])
    await waitFor('the webhook to hear of the new URL', () => receiver.received.some((e: any) => e.type === 'expose.up' && e.url === newQuickUrl))
    await waitFor('the new URL to be saved', () => JSON.parse(readFileSync(endpointFile(quick.id), 'utf8')).lastUrl === newQuickUrl)

    const human = (await t.run(['events'])).stdout
    expect(human).toContain(`expose.up  ${quick.id}  cloudflare  ${newQuickUrl}`)
    expect(human).toContain(`expose.url_changed  ${quick.id}  ${quick.url} -> ${newQuickUrl}`)
  })

  it('from a file written before URLs and ports were saved: expose.up, no url_changed, and the URL and port are saved from then on', async () => {
    const id = 'a1b2c3d4'
    mkdirSync(join(t.home, 'expose', 'endpoints'), {recursive: true, mode: 0o700})
    const old = {version: 1, id, name: id, provider: 'local', mode: 'private', target: '3000', auth: null, createdAt: '2026-11-21T06:10:00.000Z'}
    writeFileSync(endpointFile(id), JSON.stringify(old), {mode: 0o600})

    await startSupervisor()
    const url = `http://${LAN_HOST}:${lanPort}`
    await waitFor('expose.up', () => t.eventsLog().find((e) => e.type === 'expose.up' && e.endpoint === id && e.url === url))
    await waitFor('the URL to be saved', () => JSON.parse(readFileSync(endpointFile(id), 'utf8')).lastUrl === url)
    expect(JSON.parse(readFileSync(endpointFile(id), 'utf8'))).toEqual({...old, lastUrl: url, listenPort: lanPort})
    expect(t.eventsLog().filter((e) => e.type === 'expose.url_changed')).toEqual([])
  })
})
