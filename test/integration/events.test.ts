import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {SilentSupervisor} from '../helpers/old-supervisor.js'
import {WebhookReceiver} from '../helpers/webhook-receiver.js'

let t: TestHome
let receiver: WebhookReceiver
beforeEach(() => {
  t = new TestHome()
  receiver = new WebhookReceiver()
})
afterEach(async () => {
  await receiver.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const crashed = (port: number) =>
  expect.objectContaining({
    type: 'tunnel.crashed',
    port,
    url: expect.stringMatching(/^https:\/\/.*\.trycloudflare\.com$/),
    exitCode: 2,
    signal: null,
    lastLines: expect.arrayContaining(['panic: runtime error: invalid memory address or nil pointer dereference']),
    time: expect.any(String),
    id: expect.any(Number),
  })

describe('a tunnel whose cloudflared dies unasked', () => {
  it('is removed, and the crash reaches events, the events log and the webhook', async () => {
    await t.run(['config', 'set', 'notify.webhook', await receiver.start()])
    await t.run(['tunnel', 'start', '3001'])
    t.fakeModeNext('crash-after-start')
    expect((await t.run(['tunnel', 'start', '3002'])).exitCode).toBe(0)

    await waitFor('the crash to reach the webhook', () => receiver.received.find((e: any) => e.type === 'tunnel.crashed'))
    expect(receiver.received).toContainEqual(crashed(3002))
    expect((await t.json(['tunnel', 'list'])).body.map((tunnel: {port: number}) => tunnel.port)).toEqual([3001])

    const events = await t.json(['events'])
    expect(events.body).toContainEqual(crashed(3002))
    expect(t.eventsLog()).toContainEqual(crashed(3002))

    const human = await t.run(['events'])
    expect(human.stdout).toMatch(/tunnel\.crashed {2}port 3002 {2}https:\S+ {2}exited with code 2\n {4}\| /)
  })

  it('reports a crash by signal', async () => {
    const start = await t.json(['tunnel', 'start', '3000'])
    process.kill(start.body.pid, 'SIGKILL')
    const event = await waitFor('the crash event', async () => (await t.json(['events'])).body.find((e: any) => e.type === 'tunnel.crashed'))
    expect(event).toMatchObject({port: 3000, exitCode: null, signal: 'SIGKILL'})
  })

  it('streams to `events --follow --json` as NDJSON', async () => {
    t.fakeMode('crash-after-start')
    await t.run(['supervisor', 'start'])
    const follower = t.spawn(['events', '--follow', '--json'])
    let output = ''
    follower.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitFor('the follower to print the supervisor start', () => output.includes('supervisor.started'))
    await t.run(['tunnel', 'start', '3000'])
    await waitFor('the crash to be streamed', () => output.includes('tunnel.crashed'))
    follower.kill('SIGINT')
    await follower

    const lines = output.trim().split('\n')
    const events = lines.map((line) => JSON.parse(line))
    expect(events.map((e) => e.type)).toEqual(['supervisor.started', 'tunnel.started', 'tunnel.crashed'])
    expect(events[2]).toEqual(crashed(3000))
  })

  it('`events --follow` ends when the supervisor stops', async () => {
    await t.run(['supervisor', 'start'])
    const follower = t.spawn(['events', '--follow'])
    let output = ''
    follower.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitFor('the follower to start', () => output.includes('supervisor.started'))
    await t.run(['supervisor', 'stop'])
    const result = await follower
    expect(result.exitCode).toBe(0)
    expect(output).toMatch(/supervisor\.stopped {2}pid \d+: stop requested\n$/)
  })
})

describe('the events log', () => {
  it('outlives the supervisor: a new one numbers on and shows the history', async () => {
    await t.run(['tunnel', 'start', '3000'])
    await t.run(['supervisor', 'stop'])
    await t.run(['supervisor', 'start'])
    const events = (await t.json(['events'])).body
    expect(events.map((e: any) => e.type)).toEqual([
      'supervisor.started',
      'tunnel.started',
      'tunnel.stopped',
      'supervisor.stopped',
      'supervisor.started',
    ])
    expect(events.map((e: any) => e.id)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('events the supervisor sends without a field their type has', () => {
  // A crash report with no lastLines, as a broken build might send it: told as a malformed reply, never a TypeError.
  const failed = {id: 7, time: '2026-01-01T00:00:00.000Z', type: 'expose.failed', provider: 'custom', endpoint: 'abcd1234', restarts: 5, delayMs: 30_000, reason: 'exited with code 1'}
  const crashed = {id: 8, time: '2026-01-01T00:00:01.000Z', type: 'tunnel.crashed', port: 3000, url: null, exitCode: 2, signal: null}
  const malformed = /^The supervisor sent a malformed event reply \(event 7, expose\.failed: "lastLines" must be a list of strings\)\. Restart it/

  it.each([
    ['events', {'/v1/events': {events: [failed, crashed]}}],
    // --follow first prints the recent events it asks for, then follows the stream.
    ['events --follow', {'/v1/events': {events: []}, '/v1/events?follow=1': `${JSON.stringify(failed)}\n${JSON.stringify(crashed)}\n`}],
  ])('`%s` says the reply is malformed, human or JSON', async (command, replies) => {
    const fake = new SilentSupervisor(t.home, process.pid, true, replies)
    await fake.start()
    try {
      const human = await t.run(command.split(' '))
      expect(human.exitCode, human.stderr).toBe(1)
      expect(human.stderr).not.toContain('TypeError')
      expect(human.stderr).toMatch(new RegExp(`Error: ${malformed.source.slice(1)}`))

      const json = await t.json(command.split(' '))
      expect(json.exitCode).toBe(1)
      expect(json.body.error).toMatchObject({code: 'SUPERVISOR_UNAVAILABLE', message: expect.stringMatching(malformed)})
    } finally {
      fake.close()
    }
  })
})
