import {createServer} from 'node:net'
import {readFileSync} from 'node:fs'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {unusedPort} from '../helpers/ports.js'

const URL_PATTERN = /^https:\/\/[a-z]+(-[a-z]+){3}\.trycloudflare\.com$/

let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

describe('tunnel start, list, stop, killall', () => {
  it('start prints the URL, list shows it, stop removes it', async () => {
    const start = await t.run(['tunnel', 'start', '3000'])
    expect(start.exitCode).toBe(0)
    const url = /Forwarding (\S+) -> http:\/\/localhost:3000/.exec(start.stdout)?.[1]
    expect(url).toMatch(URL_PATTERN)

    const list = await t.run(['tunnel', 'list'])
    expect(list.stdout).toContain(url)
    expect(list.stdout).toMatch(/^3000\s+https:\S+\s+proxy\s+no\s+up\s+\d+s$/m)

    const stop = await t.run(['tunnel', 'stop', '3000'])
    expect(stop).toMatchObject({exitCode: 0, stdout: `Stopped the tunnel on port 3000 (${url}).`})
    expect((await t.run(['tunnel', 'list'])).stdout).toBe('No active tunnels.')
    const [run] = t.fakeRuns()
    await waitFor('cloudflared to exit', () => !isAlive(run.pid))
  })

  it('gives JSON documents with --json', async () => {
    const port = await unusedPort()
    const start = await t.json(['tunnel', 'start', String(port)])
    expect(start.exitCode).toBe(0)
    expect(start.body).toEqual({
      port,
      scheme: 'http',
      url: expect.stringMatching(URL_PATTERN),
      pid: expect.any(Number),
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      status: 'up',
      direct: false,
      auth: false,
      warnings: [`Nothing is listening on localhost:${port} yet; visitors get 502 until something does.`],
    })
    expect(start.stderr).toBe('')

    await t.run(['tunnel', 'start', '1'])
    const list = await t.json(['tunnel', 'list'])
    expect(list.body.map((tunnel: {port: number}) => tunnel.port)).toEqual([1, port])
    expect(list.body[1]).toEqual({port, scheme: 'http', url: start.body.url, pid: start.body.pid, startedAt: start.body.startedAt, status: 'up', direct: false, auth: false})

    const stop = await t.json(['tunnel', 'stop', '1'])
    expect(stop.body).toMatchObject({port: 1, status: 'up'})

    const killall = await t.json(['tunnel', 'killall'])
    expect(killall.body).toEqual({stopped: 1, tunnels: [expect.objectContaining({port})]})
  })

  it('lists tunnels sorted by port whatever the order they were started in', async () => {
    for (const port of ['5000', '3000', '4000']) expect((await t.run(['tunnel', 'start', port])).exitCode).toBe(0)
    const ports = (await t.json(['tunnel', 'list'])).body.map((tunnel: {port: number}) => tunnel.port)
    expect(ports).toEqual([3000, 4000, 5000])
  })

  it('killall stops every tunnel and says how many', async () => {
    await Promise.all([t.run(['tunnel', 'start', '3000']), t.run(['tunnel', 'start', '3001'])])
    const killall = await t.run(['tunnel', 'killall'])
    expect(killall).toMatchObject({exitCode: 0, stdout: 'Stopped 2 tunnels.'})
    expect((await t.run(['tunnel', 'killall'])).stdout).toBe('No active tunnels.')
    for (const run of t.fakeRuns()) await waitFor(`cloudflared ${run.pid} to exit`, () => !isAlive(run.pid))
  })

  it('refuses a second tunnel on the same port, exit 1', async () => {
    const first = await t.json(['tunnel', 'start', '3000'])
    const second = await t.run(['tunnel', 'start', '3000'])
    expect(second.exitCode).toBe(1)
    expect(second.stderr).toBe(`Error: Port 3000 already has a tunnel (${first.body.url}). Stop it first with \`tunnelctl tunnel stop 3000\`.`)
    expect(t.fakeRuns()).toHaveLength(1)
  })

  it('stop of a port without a tunnel exits 1 and says how to list them', async () => {
    const stop = await t.run(['tunnel', 'stop', '4444'])
    expect(stop.exitCode).toBe(1)
    expect(stop.stderr).toBe('Error: No tunnel on port 4444. See the active ones with `tunnelctl tunnel list`.')
  })

  it('warns when nothing listens on the port yet, and not when something does', async () => {
    const server = createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const port = (server.address() as {port: number}).port
    try {
      const listening = await t.run(['tunnel', 'start', String(port)])
      expect(listening.stderr).toBe('')
      const unused = await unusedPort()
      const idle = await t.run(['tunnel', 'start', String(unused)])
      expect(idle.stderr).toBe(`Warning: Nothing is listening on localhost:${unused} yet; visitors get 502 until something does.`)
    } finally {
      server.close()
    }
  })
})

describe('how cloudflared is run', () => {
  it('with --no-autoupdate, its own metrics port, an isolated config and no TUNNEL_* variables', async () => {
    const start = await t.run(['tunnel', 'start', '3000'], {TUNNEL_URL: 'http://localhost:9', TUNNEL_METRICS: '0.0.0.0:20241'})
    expect(start.exitCode).toBe(0)
    const [run] = t.fakeRuns()
    expect(run.tunnelEnv).toEqual([])
    expect(run.args[0]).toBe('tunnel')
    expect(run.args).toContain('--no-autoupdate')
    expect(run.args[run.args.indexOf('--url') + 1], "the proxy's entrance for cloudflared").toMatch(/^http:\/\/localhost:\d+$/)
    expect(run.args[run.args.indexOf('--metrics') + 1]).toMatch(/^127\.0\.0\.1:\d+$/)
    const config = readFileSync(run.args[run.args.indexOf('--config') + 1], 'utf8')
    expect(config).not.toMatch(/ingress/)
  })

  it('prints the hostname cloudflared itself reports on /quicktunnel, once /ready says it is connected', async () => {
    const start = await t.json(['tunnel', 'start', '3000'])
    const [run] = t.fakeRuns()
    const metrics = `http://${run.args[run.args.indexOf('--metrics') + 1]}`
    const ready = await fetch(`${metrics}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({status: 200, readyConnections: 1})
    const {hostname} = await (await fetch(`${metrics}/quicktunnel`)).json()
    expect(start.body.url).toBe(`https://${hostname}`)
  })

  it('gives each tunnel a metrics port of its own', async () => {
    await Promise.all(['3000', '3001', '3002'].map((port) => t.run(['tunnel', 'start', port])))
    const metrics = t.fakeRuns().map((run) => run.args[run.args.indexOf('--metrics') + 1])
    expect(new Set(metrics).size).toBe(3)
  })

  it('puts cloudflared in a process group of its own and stops the whole group', async () => {
    t.fakeMode('spawns-child')
    expect((await t.run(['tunnel', 'start', '3000'])).exitCode).toBe(0)
    const [run] = await waitFor('the child to be recorded', () => t.fakeRuns().filter((r) => r.childPid))
    expect(isAlive(run.childPid!)).toBe(true)
    await t.run(['tunnel', 'stop', '3000'])
    // The child ignores SIGTERM: only the group SIGKILL after the grace period ends it.
    await waitFor('the grandchild to die', () => !isAlive(run.childPid!))
    expect(isAlive(run.pid)).toBe(false)
  })

  it('kills a cloudflared that ignores SIGTERM after the grace period', async () => {
    t.fakeMode('ignore-sigterm')
    const start = await t.json(['tunnel', 'start', '3000'])
    const stop = await t.run(['tunnel', 'stop', '3000'])
    expect(stop.exitCode).toBe(0)
    expect(isAlive(start.body.pid)).toBe(false)
  })
})

describe('supervisor shutdown', () => {
  it('`supervisor stop` stops every tunnel and leaves no cloudflared', async () => {
    await Promise.all([t.run(['tunnel', 'start', '3000']), t.run(['tunnel', 'start', '3001'])])
    const stop = await t.run(['supervisor', 'stop'])
    expect(stop.stdout).toMatch(/^Stopped the supervisor \(pid \d+\) and 2 tunnels\.$/)
    expect(t.processes()).toEqual([])
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the supervisor stops every tunnel', async (signal) => {
    await t.run(['tunnel', 'start', '3000'])
    const pid = t.supervisorPid()!
    process.kill(pid, signal)
    await waitFor('the supervisor to exit', () => !isAlive(pid))
    expect(t.processes()).toEqual([])
    expect(t.eventsLog().at(-1)).toMatchObject({type: 'supervisor.stopped', reason: `signal ${signal}`})
  })

  it('SIGTERM in the middle of a `tunnel start` fails the start clearly and leaves nothing', async () => {
    t.fakeMode('no-url')
    const start = t.spawn(['tunnel', 'start', '3000'])
    const [run] = await waitFor('cloudflared to start', () => t.fakeRuns().length > 0 && t.fakeRuns())
    process.kill(t.supervisorPid()!, 'SIGTERM')
    const result = await start
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^Error: The supervisor is shutting down/)
    expect(isAlive(run.pid)).toBe(false)
  })

  it('Ctrl-C on a `tunnel start` still waiting for its URL stops that cloudflared', async () => {
    t.fakeMode('no-url')
    const start = t.spawn(['tunnel', 'start', '3000'])
    const [run] = await waitFor('cloudflared to start', () => t.fakeRuns().length > 0 && t.fakeRuns())
    start.kill('SIGINT')
    await start
    await waitFor('cloudflared to be stopped', () => !isAlive(run.pid))
    expect((await t.json(['tunnel', 'list'])).body).toEqual([])
  })

  it('exits by itself after the configured idle time with nothing running', async () => {
    await t.run(['config', 'set', 'supervisor.idleTimeout', '1'])
    await t.run(['supervisor', 'start'])
    const pid = t.supervisorPid()!
    await waitFor('the idle supervisor to exit', () => !isAlive(pid))
    expect(t.eventsLog().at(-1)).toMatchObject({type: 'supervisor.stopped', reason: 'idle for 1s with nothing running'})
  })

  it('does not go idle while a tunnel runs', async () => {
    await t.run(['config', 'set', 'supervisor.idleTimeout', '1'])
    await t.run(['tunnel', 'start', '3000'])
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect((await t.json(['tunnel', 'list'])).body).toHaveLength(1)
  })
})
