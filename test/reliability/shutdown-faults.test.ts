import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {ms, recordFigure} from '../helpers/figures.js'

/**
 * Faults no supervisor should have, injected into a real one: whatever goes wrong, it must never be
 * left half-alive, holding children and a socket that only answers "shutting down".
 */
let t: TestHome
let supervisor: ChildProcess | undefined
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  supervisor?.kill('SIGKILL')
  supervisor = undefined
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const faultLog = () => join(t.home, 'faulty-supervisor.log')

const dist = (file: string) => JSON.stringify(join(ROOT, 'dist', 'supervisor', file))

/**
 * The supervisor's own entry, with its events log made to throw when the stop is recorded, SIGUSR2
 * made to throw an exception nothing catches, and whatever else `fault` does.
 */
async function startFaultySupervisor(fault = ''): Promise<number> {
  const script = `
    import {EventLog} from ${dist('event-log.js')}
    const record = EventLog.prototype.record
    EventLog.prototype.record = function (event) {
      if (event.type === 'supervisor.stopped') throw new Error('injected: the events log failed')
      return record.call(this, event)
    }
    process.on('SIGUSR2', () => setImmediate(() => { throw new Error('injected: a bug') }))
    ${fault}
    await import(${dist('main.js')})`
  const log = openSync(faultLog(), 'a')
  supervisor = spawn(process.execPath, ['--input-type=module', '-e', script], {env: t.env, stdio: ['ignore', log, log], detached: true})
  closeSync(log)
  const {pid} = supervisor
  await waitFor('the faulty supervisor to answer', async () => (await t.json(['supervisor', 'status'])).body.pid === pid)
  return pid!
}

describe('a supervisor whose events log throws as it stops', () => {
  it.each([
    ['SIGTERM', 'shutting down: signal SIGTERM', (pid: number) => process.kill(pid, 'SIGTERM')],
    ['an uncaught exception', 'uncaught exception: Error: injected: a bug', (pid: number) => process.kill(pid, 'SIGUSR2')],
    [
      '`supervisor stop`',
      'shutting down: stop requested',
      async () => {
        const stop = await t.run(['supervisor', 'stop'])
        expect(stop.exitCode, stop.stderr).toBe(0)
      },
    ],
  ])('on %s still stops every child, removes its socket and pid file, and exits; the next command starts a fresh one', async (name, logged, trigger) => {
    const pid = await startFaultySupervisor()
    const tunnel = await t.json(['tunnel', 'start', '3000'])
    expect(tunnel.exitCode, tunnel.stderr).toBe(0)
    const endpoint = await t.json(['expose', 'start', '3001', '--provider', 'cloudflare'])
    expect(endpoint.exitCode, endpoint.stderr).toBe(0)
    const children = t.fakeRuns().map((run) => run.pid)
    expect(children).toHaveLength(2)

    const triggered = performance.now()
    await trigger(pid)
    await waitFor('the supervisor to exit', () => !isAlive(pid))
    const exitedMs = performance.now() - triggered
    for (const child of children) expect(isAlive(child), `cloudflared ${child}`).toBe(false)
    expect(existsSync(join(t.home, 'run', 'supervisor.sock')), 'socket left').toBe(false)
    expect(existsSync(join(t.home, 'run', 'supervisor.pid')), 'pid file left').toBe(false)
    const log = readFileSync(faultLog(), 'utf8')
    expect(log).toContain(logged)
    expect(log).toContain('could not record the stop: Error: injected: the events log failed')

    const again = await t.run(['tunnel', 'start', '3000'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(t.supervisorPid()).not.toBe(pid)
    recordFigure(
      'Faults',
      `The events log throws as the supervisor stops, on ${name}`,
      `exited ${ms(exitedMs)} after it; ${children.length} of ${children.length} children ended; socket and pid file removed; the next command started a fresh supervisor`,
    )
  })
})

describe('a supervisor that fails to stop its tunnels', () => {
  it('kills them as it exits, rather than leave them to nobody', async () => {
    const pid = await startFaultySupervisor(`
      import {TunnelRegistry} from ${dist('tunnel-registry.js')}
      TunnelRegistry.prototype.close = async () => { throw new Error('injected: the tunnels would not stop') }`)
    const tunnel = await t.json(['tunnel', 'start', '3000'])
    expect(tunnel.exitCode, tunnel.stderr).toBe(0)

    process.kill(pid, 'SIGTERM')
    await waitFor('the supervisor to exit', () => !isAlive(pid))
    await waitFor('its cloudflared to be gone', () => !isAlive(tunnel.body.pid))
    expect(readFileSync(faultLog(), 'utf8')).toContain('could not stop the tunnels: Error: injected: the tunnels would not stop')
    recordFigure('Faults', 'Stopping the tunnels throws as the supervisor stops', '1 of 1 cloudflared killed as the supervisor exited')
  })
})
