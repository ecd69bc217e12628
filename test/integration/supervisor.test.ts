import {spawn} from 'node:child_process'
import {execa} from 'execa'
import {existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, isAlive, leaveStaleSocket, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {OldSupervisor} from '../helpers/old-supervisor.js'
import {socketRequest} from '../helpers/socket.js'

let t: TestHome
let socket: string
beforeEach(() => {
  t = new TestHome()
  socket = join(t.home, 'run', 'supervisor.sock')
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

describe('auto-spawn', () => {
  it('replaces a stale socket that nothing listens on', async () => {
    await leaveStaleSocket(socket)
    expect(existsSync(socket)).toBe(true)

    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    expect((await t.json(['supervisor', 'status'])).body.running).toBe(true)
  })

  it('replaces the pid file a dead supervisor left, owner-only whatever mode it had', async () => {
    const pidFile = join(t.home, 'run', 'supervisor.pid')
    mkdirSync(dirname(pidFile), {recursive: true, mode: 0o700})
    writeFileSync(pidFile, '999999999\n', {mode: 0o644})

    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    const pid = (await t.json(['supervisor', 'status'])).body.pid
    expect(readFileSync(pidFile, 'utf8')).toBe(`${pid}\n`)
    expect((statSync(pidFile).mode & 0o777).toString(8), 'pid file mode').toBe('600')
  })

  it('ten supervisors started at once over a stale socket: one listens, and the others exit', async () => {
    await leaveStaleSocket(socket)
    const supervisors = Array.from({length: 10}, () => execa(process.execPath, [join(ROOT, 'dist', 'supervisor.js')], {env: t.env, extendEnv: false, reject: false}))
    const listening = await waitFor('a supervisor to answer', async () => (await t.json(['supervisor', 'status'])).body.running && t.supervisorPid())
    const others = supervisors.filter((s) => s.pid !== listening)
    await waitFor('the other nine to exit', () => others.every((s) => s.exitCode !== undefined && s.exitCode !== null) || undefined, 20_000).catch(() => {})
    expect(t.processes().filter((p) => p.cmdline.includes('dist/supervisor.js')).map((p) => p.pid), 'supervisors running').toEqual([listening])
    for (const result of await Promise.all(others)) {
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toMatch(/another supervisor already answers on .*; exiting$/)
    }
  })

  it('a second supervisor on the same home leaves the first alone and exits', async () => {
    await t.run(['tunnel', 'start', '3000'])
    const first = t.supervisorPid()
    const second = await execa(process.execPath, [join(ROOT, 'dist', 'supervisor', 'main.js')], {env: t.env, extendEnv: false, reject: false})
    expect(second.exitCode).toBe(0)
    expect(second.stdout).toMatch(/another supervisor already answers on .*; exiting$/)
    expect(t.supervisorPid()).toBe(first)
    expect((await t.json(['tunnel', 'list'])).body).toHaveLength(1)
  })

  it('a supervisor stopped before it listens leaves the socket and pid file of the one that runs', async () => {
    await t.run(['supervisor', 'start'])
    const first = t.supervisorPid()
    // What a SIGTERM during start-up does: shut down a supervisor that never listened.
    const script = `
      import {Supervisor} from ${JSON.stringify(join(ROOT, 'dist', 'supervisor', 'supervisor.js'))}
      import {resolvePaths} from ${JSON.stringify(join(ROOT, 'dist', 'paths.js'))}
      await new Supervisor(resolvePaths()).shutdown('signal SIGTERM')`
    const stopped = await execa(process.execPath, ['--input-type=module', '-e', script], {env: t.env, extendEnv: false, reject: false})
    expect(stopped.exitCode).toBe(0)
    expect(existsSync(socket)).toBe(true)
    expect(t.supervisorPid()).toBe(first)
    expect((await t.run(['supervisor', 'start'])).stdout).toMatch(new RegExp(`^The supervisor is already running \\(pid ${first}, `))
  })

  it('says where the log is when the supervisor cannot start', async () => {
    const result = await t.run(['tunnel', 'list'], {TUNNELCTL_HOME: join(t.home, 'x'.repeat(120))})
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/longer than 103 bytes.*Set TUNNELCTL_HOME to a shorter directory/)
  })
})

describe('version checks', () => {
  let old: OldSupervisor
  beforeEach(() => {
    old = new OldSupervisor(t.home, process.pid + 1_000_000)
  })
  afterEach(() => old.close())

  it('replaces a supervisor of another version that holds nothing', async () => {
    await old.start(0)
    // A command that only reads finds nothing in it, and leaves it be.
    expect(await t.run(['tunnel', 'list'])).toMatchObject({exitCode: 0, stdout: 'No tunnels are running: the supervisor is not running.'})
    const start = await t.run(['supervisor', 'start'])
    expect(start).toMatchObject({exitCode: 0, stdout: expect.stringMatching(/^Started the supervisor \(pid \d+\)\.$/)})
    expect((await t.json(['supervisor', 'status'])).body.version).toBe('0.1.0')
  })

  it('leaves a supervisor of another version that holds tunnels, and says how to replace it', async () => {
    await old.start(2)
    const list = await t.run(['tunnel', 'list'])
    expect(list.exitCode).toBe(1)
    expect(list.stderr).toContain('The running supervisor is tunnelctl 0.0.1 and holds 2 tunnel(s); this is tunnelctl 0.1.0.')
    expect(list.stderr).toContain('Run `tunnelctl supervisor stop`')
  })

  it('the supervisor refuses a client of another version, but still answers status', async () => {
    await t.run(['supervisor', 'start'])
    const refused = await socketRequest(socket, 'GET', '/v1/tunnels', {headers: {'tunnelctl-version': '9.9.9'}})
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('VERSION_MISMATCH')
    const status = await socketRequest(socket, 'GET', '/v1/status', {headers: {'tunnelctl-version': '9.9.9'}})
    expect(status.status).toBe(200)
    expect(status.headers['tunnelctl-version']).toBe('0.1.0')
  })
})

describe('supervisor status and logs', () => {
  it('status says when nothing runs, and never starts one', async () => {
    const status = await t.run(['supervisor', 'status'])
    expect(status).toMatchObject({exitCode: 0, stdout: expect.stringMatching(/^The supervisor is not running. `tunnelctl supervisor start` starts it, as does any command that changes something.\nService:  not installed/)})
    expect(t.processes()).toEqual([])
    expect((await t.json(['supervisor', 'status'])).body).toEqual({
      running: false,
      socket,
      service: {installed: false, manager: 'systemd', name: expect.stringMatching(/^tunnelctl-[\da-f]{8}\.service$/), file: expect.any(String)},
    })
  })

  it('status describes a running supervisor', async () => {
    await t.run(['tunnel', 'start', '3000'])
    const status = (await t.json(['supervisor', 'status'])).body
    expect(status).toMatchObject({running: true, version: '0.1.0', tunnels: 1, socket, configDir: t.home})
    expect(isAlive(status.pid)).toBe(true)
  })

  it('logs prints the end of the supervisor log', async () => {
    await t.run(['supervisor', 'start'])
    const logs = await t.run(['supervisor', 'logs', '-n', '5'])
    expect(logs.stdout).toMatch(/supervisor \d+ listening on /)
  })

  it('stop when nothing runs says so, exit 0', async () => {
    expect(await t.run(['supervisor', 'stop'])).toMatchObject({exitCode: 0, stdout: 'The supervisor is not running.'})
  })

  it('waits for the supervisor to be gone before it returns', async () => {
    await t.run(['supervisor', 'start'])
    const pid = t.supervisorPid()!
    await t.run(['supervisor', 'stop'])
    expect(isAlive(pid)).toBe(false)
    await waitFor('the socket to go', () => !existsSync(socket))
  })
})

describe('after the supervisor is killed with SIGKILL', () => {
  it('the next supervisor ends the cloudflareds it left, up or starting, and reports them lost', async () => {
    await t.run(['tunnel', 'start', '3000'])
    await t.run(['tunnel', 'start', '3001'])
    t.fakeModeNext('no-url')
    const starting = t.spawn(['tunnel', 'start', '3002'])
    await waitFor('three cloudflareds', () => t.fakeRuns().length === 3)
    await waitFor('the ledger to list them', () => JSON.parse(readFileSync(join(t.home, 'run', 'children.json'), 'utf8')).length === 3)
    const old = t.supervisorPid()!
    process.kill(old, 'SIGKILL')
    await starting
    await waitFor('the supervisor to die', () => !isAlive(old))
    const left = t.fakeRuns()
    expect(left.every((run) => isAlive(run.pid))).toBe(true)

    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    expect((await t.json(['tunnel', 'list'])).body).toEqual([])
    for (const run of left) expect(isAlive(run.pid), `cloudflared ${run.pid}`).toBe(false)
    const lost = await waitFor('three tunnel.lost events', () => {
      const events = t.eventsLog().filter((e) => e.type === 'tunnel.lost')
      return events.length === 3 && events
    })
    expect(lost.map((e) => e.port).sort()).toEqual([3000, 3001, 3002])
    expect(lost.map((e) => e.pid).sort()).toEqual(left.map((run) => run.pid).sort())
    // Reported by the new supervisor, after its own start.
    const types = t.eventsLog().map((e) => e.type)
    expect(types.lastIndexOf('supervisor.started')).toBeLessThan(types.indexOf('tunnel.lost'))
  })

  it('leaves alone a process that has since taken a recorded pid', async () => {
    mkdirSync(join(t.home, 'run'), {mode: 0o700})
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore', env: t.env})
    try {
      const ledger = [{pid: stranger.pid, command: ['/usr/bin/cloudflared', 'tunnel', '--url', 'http://localhost:3000'], owner: {kind: 'tunnel', port: 3000}}]
      writeFileSync(join(t.home, 'run', 'children.json'), JSON.stringify(ledger))
      expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
      expect(isAlive(stranger.pid!)).toBe(true)
      expect(t.eventsLog().filter((e) => e.type === 'tunnel.lost')).toEqual([])
    } finally {
      stranger.kill('SIGKILL')
    }
  })
})

describe('a relative TUNNELCTL_HOME', () => {
  it('names the same home from every working directory, and the supervisor does not keep the command’s', async () => {
    const run = (cwd: string, home: string) =>
      execa(process.execPath, [BIN, 'tunnel', 'start', '3000', '--json'], {cwd, env: {...t.env, TUNNELCTL_HOME: home}, extendEnv: false, reject: false})
    expect((await run(dirname(t.home), basename(t.home))).exitCode).toBe(0)
    const again = await run(join(t.home, 'fake'), '..')
    expect(again.exitCode).toBe(1)
    expect(again.stdout).toContain('already has a tunnel')
    expect(readlinkSync(`/proc/${t.supervisorPid()}/cwd`)).toBe(join(t.home, 'run'))
  })
})
