import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {EmptySupervisor} from '../helpers/old-supervisor.js'

/** Commands that only read never start a supervisor: with none running, they answer from the files. */
let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const supervisors = () => t.processes().filter((p) => p.cmdline.includes('dist/supervisor.js'))

describe('with no supervisor running', () => {
  it('tunnel list, expose list, events, supervisor status and logs, config and doctor start nothing, and answer from the files', async () => {
    const first = await t.json(['expose', 'start', '3000', '--provider', 'cloudflare', '--auth'])
    const second = await t.json(['expose', 'start', '4000', '--provider', 'cloudflare'])
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    const cloudflareds = t.fakeRuns().length
    const ids = [first.body.id, second.body.id]

    const tunnels = await t.run(['tunnel', 'list'])
    expect(tunnels).toMatchObject({exitCode: 0, stdout: 'No tunnels are running: the supervisor is not running.'})
    expect((await t.json(['tunnel', 'list'])).body).toEqual([])

    const endpoints = await t.json(['expose', 'list'])
    expect(endpoints.exitCode).toBe(0)
    expect(endpoints.body).toEqual(
      ids.map((id, i) => ({
        id,
        name: id,
        provider: 'cloudflare',
        mode: 'public',
        target: ['3000', '4000'][i],
        url: null,
        urls: [],
        auth: i === 0,
        status: 'stopped',
        reason: 'the supervisor is not running; `tunnelctl supervisor start` brings it back',
        upSince: null,
        restarts: 0,
        nextTryAt: null,
        requests: 0,
      })),
    )
    const human = await t.run(['expose', 'list'])
    expect(ids.reduce((text, id, i) => text.replaceAll(id, ['a1a1a1a1', 'b2b2b2b2'][i]), human.stdout)).toMatchInlineSnapshot(`
      "ID        PROVIDER    URL  TARGET  AUTH  STATUS   UPTIME  RESTARTS  REQUESTS
      a1a1a1a1  cloudflare  -    3000    yes   stopped  -       0         0
      b2b2b2b2  cloudflare  -    4000    no    stopped  -       0         0

      The supervisor is not running, so these endpoints are saved but not published. \`tunnelctl supervisor start\` brings them back."
    `)

    // The events come from the log the supervisor wrote.
    const events = await t.json(['events'])
    expect(events.exitCode).toBe(0)
    expect(events.body.map((e: {type: string}) => e.type)).toEqual(['supervisor.started', 'expose.started', 'expose.started', 'supervisor.stopped'])
    expect((await t.run(['events'])).stdout).toContain(`expose.started  ${ids[1]}  cloudflare  https://`)
    const follow = await t.run(['events', '--follow'])
    expect(follow.exitCode).toBe(0)
    expect(follow.stdout.split('\n')).toHaveLength(4)
    expect(follow.stderr).toBe('Warning: The supervisor is not running, so no more events will come. `tunnelctl supervisor start` starts it.')

    expect((await t.json(['supervisor', 'status'])).body.running).toBe(false)
    expect((await t.run(['supervisor', 'logs'])).exitCode).toBe(0)
    expect((await t.run(['config', 'set', 'supervisor.idleTimeout', '600'])).exitCode).toBe(0)
    expect(JSON.parse(readFileSync(join(t.home, 'config.json'), 'utf8'))).toMatchObject({supervisor: {idleTimeout: 600}})
    expect((await t.run(['config', 'get', 'supervisor.idleTimeout'])).stdout).toBe('600')
    expect((await t.run(['config', 'list'])).exitCode).toBe(0)
    expect((await t.run(['config', 'unset', 'supervisor.idleTimeout'])).exitCode).toBe(0)
    const doctor = await t.json(['doctor'])
    expect(doctor.body.checks.find((c: {id: string}) => c.id === 'supervisor')).toMatchObject({status: 'ok', summary: 'not running; `tunnelctl supervisor start` starts it'})

    expect(supervisors(), 'a supervisor started by a command that only reads').toEqual([])
    expect(t.fakeRuns(), 'cloudflareds started by a command that only reads').toHaveLength(cloudflareds)
    expect(t.eventsLog().filter((e) => e.type === 'supervisor.started')).toHaveLength(1)
  })
})

describe('with a supervisor of this version running', () => {
  it('tunnel list and expose list ask it once each: the reply that lists also names its version', async () => {
    const supervisor = new EmptySupervisor(t.home)
    await supervisor.start()
    try {
      expect(await t.run(['tunnel', 'list'])).toMatchObject({exitCode: 0, stdout: 'No active tunnels.'})
      expect(await t.json(['expose', 'list'])).toMatchObject({exitCode: 0, body: []})
      expect(supervisor.requests).toEqual(['GET /v1/tunnels', 'GET /v1/endpoints'])
    } finally {
      supervisor.close()
    }
  })
})

describe('supervisor start', () => {
  it('starts the supervisor, which brings the saved endpoints back; run again, it says it already runs', async () => {
    const endpoint = await t.json(['expose', 'start', '3000', '--provider', 'cloudflare'])
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)

    const start = await t.run(['supervisor', 'start'])
    expect(start.exitCode).toBe(0)
    expect(start.stdout).toMatch(/^Started the supervisor \(pid \d+\); it is bringing back 1 saved endpoint: see `tunnelctl expose list`\.$/)
    expect(supervisors()).toHaveLength(1)
    await waitFor('the endpoint to be up again', async () => (await t.json(['expose', 'list'])).body[0]?.status === 'up')
    expect((await t.json(['expose', 'list'])).body[0].id).toBe(endpoint.body.id)

    const again = await t.run(['supervisor', 'start'])
    expect(again).toMatchObject({exitCode: 0, stdout: expect.stringMatching(/^The supervisor is already running \(pid \d+, up \d+s\)\.$/)})
    const json = await t.json(['supervisor', 'start'])
    expect(json.exitCode).toBe(0)
    expect(json.body).toMatchObject({started: false, restoring: 0, pid: t.supervisorPid(), version: '0.1.0', endpoints: 1})
    expect(supervisors()).toHaveLength(1)
  })

  it('with --json, when it starts one: started, and how many endpoints it brings back', async () => {
    const json = await t.json(['supervisor', 'start'])
    expect(json.exitCode).toBe(0)
    expect(json.body).toMatchObject({started: true, restoring: 0, pid: t.supervisorPid(), tunnels: 0})
  })
})
