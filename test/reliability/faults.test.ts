import {execFileSync, spawnSync} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, leaveStaleSocket, TestHome, waitFor} from '../helpers/cli.js'
import {median, ms, recordFigure} from '../helpers/figures.js'
import {App} from '../helpers/http.js'
import {WebhookReceiver} from '../helpers/webhook-receiver.js'

/**
 * The faults tunnelctl must survive, each driven through the real CLI against a real supervisor:
 * what is left afterwards is checked by pid and command line, and what was kept byte for byte.
 */
let t: TestHome
let app: App
let appPort: number
const undo: Array<() => unknown> = []

beforeEach(async () => {
  t = new TestHome()
  app = new App('app')
  appPort = await app.listen()
})
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step()
  await app.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const endpointsDir = () => join(t.home, 'expose', 'endpoints')

/** A custom provider whose every endpoint is one long-running forwarder process (test/fixtures/bin/fake-forwarder). */
async function configureForwarder(): Promise<void> {
  for (const [key, value] of [
    ['custom.fwd.command', 'fake-forwarder {port}'],
    ['custom.fwd.match', 'Forwarding https://(\\S+)'],
    ['custom.fwd.url', 'https://{1}'],
  ]) {
    expect((await t.run(['config', 'set', key, value])).exitCode).toBe(0)
  }
}

async function expose(provider: string, args: string[] = []) {
  const started = await t.json(['expose', 'start', String(appPort), '--provider', provider, ...args])
  expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
  return started.body
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || undefined
  } catch {
    return undefined
  }
}

/** Milliseconds of CPU (user + system) the process has used. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}))
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const result = await run()
  return [result, performance.now() - started]
}

function filesIn(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]))
}

describe('a supervisor killed with SIGKILL', () => {
  it('holding 5 tunnels and 3 endpoints: the next one ends all it left, restores the endpoints and reports the tunnels lost', async () => {
    await configureForwarder()
    const ports = [3000, 3001, 3002, 3003, 3004]
    for (const port of ports) expect((await t.run(['tunnel', 'start', String(port)])).exitCode).toBe(0)
    const endpoints = [await expose('cloudflare'), await expose('cloudflare'), await expose('fwd')]
    // The ledger holds 8 children (5 + 2 cloudflareds and the forwarder's shell) once every spawn is recorded.
    await waitFor('all 8 children in the ledger', () => JSON.parse(readFileSync(join(t.home, 'run', 'children.json'), 'utf8')).length === 8)
    const dead = t.supervisorPid()!
    const left = t.processes().filter((p) => p.pid !== dead)
    expect(left.filter((p) => p.cmdline.includes('cloudflared'))).toHaveLength(7)
    expect(left.filter((p) => p.cmdline.includes('fake-forwarder')).length).toBeGreaterThan(0)

    process.kill(dead, 'SIGKILL')
    await waitFor('the supervisor to die', () => !isAlive(dead))
    expect(left.filter((p) => !isAlive(p.pid)), 'children still running after their supervisor died').toEqual([])

    const [restored, restoreMs] = await timed(async () => {
      await t.run(['supervisor', 'start'])
      return waitFor('the 3 endpoints back up', async () => {
        const list = (await t.json(['expose', 'list'])).body
        return list.length === 3 && list.every((e: any) => e.status === 'up') && list
      })
    })
    expect(restored.map((e: any) => e.id).sort()).toEqual(endpoints.map((e) => e.id).sort())
    const survivors = left.filter((p) => commandLine(p.pid) === p.cmdline)
    expect(survivors, 'processes of the killed supervisor still running').toEqual([])
    const lost = t.eventsLog().filter((e) => e.type === 'tunnel.lost')
    expect(lost.map((e) => e.port).sort()).toEqual(ports)
    expect((await t.json(['tunnel', 'list'])).body).toEqual([])
    // The endpoints run on new processes: 2 cloudflareds and a forwarder, none of them an old one.
    const now = t.processes().filter((p) => p.pid !== t.supervisorPid())
    expect(now.filter((p) => p.cmdline.includes('cloudflared'))).toHaveLength(2)
    expect(now.filter((p) => left.some((old) => old.pid === p.pid))).toEqual([])

    recordFigure(
      'Faults',
      'SIGKILL with 5 tunnels and 3 endpoints',
      `${left.length} of ${left.length} processes left behind ended (${left.length - survivors.length} checked by pid + command line); 3 of 3 endpoints up ${ms(restoreMs)} after the next command; ${lost.length} tunnel.lost events`,
    )
  })
})

describe('many commands at once', () => {
  it('50 commands started at once against no supervisor leave exactly one, and all succeed', async () => {
    // A command that changes something: reading commands never start a supervisor.
    const [results, wallMs] = await timed(() => Promise.all(Array.from({length: 50}, () => t.run(['tunnel', 'killall']))))
    expect(results.filter((r) => r.exitCode !== 0).map((r) => r.stderr)).toEqual([])
    const supervisors = t.processes().filter((p) => p.cmdline.includes('dist/supervisor.js'))
    expect(supervisors).toHaveLength(1)
    expect(t.eventsLog().filter((e) => e.type === 'supervisor.started')).toHaveLength(1)
    recordFigure('Faults', '50 commands at once, no supervisor', `50 of 50 succeeded; 1 supervisor; all done in ${ms(wallMs)}`)
  })

  it('50 commands at once, with the spawn lock and socket left by a killed command and supervisor: one supervisor is spawned, and all succeed', async () => {
    const runDir = join(t.home, 'run')
    mkdirSync(runDir, {mode: 0o700})
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    writeFileSync(join(runDir, 'spawn.lock'), String(dead), {mode: 0o600})
    await leaveStaleSocket(join(runDir, 'supervisor.sock'))

    const [results, wallMs] = await timed(() => Promise.all(Array.from({length: 50}, () => t.run(['tunnel', 'killall']))))
    expect(results.filter((r) => r.exitCode !== 0).map((r) => r.stderr)).toEqual([])
    expect(t.processes().filter((p) => p.cmdline.includes('dist/supervisor.js'))).toHaveLength(1)
    // Every supervisor spawned says so in the log; one that found another listening says that it exits.
    const log = readFileSync(join(runDir, 'supervisor.log'), 'utf8')
    expect(log.match(/supervisor \d+ listening on /g), log).toHaveLength(1)
    expect(log).not.toContain('already answers')
    expect(existsSync(join(runDir, 'spawn.lock')), 'the spawn lock is released').toBe(false)
    recordFigure('Faults', '50 commands at once, stale spawn lock and socket', `50 of 50 succeeded; 1 supervisor spawned; all done in ${ms(wallMs)}`)
  })
})

describe('a provider process that dies soon after every start', () => {
  it('is restarted with backoff, then marked failed with the reason, while the supervisor stays responsive and idle', async () => {
    t.fakeMode('crash-after-start')
    const endpoint = await expose('cloudflare')
    const supervisor = t.supervisorPid()!
    const cpuBefore = cpuMs(supervisor)
    const [failed, loopMs] = await timed(() => waitFor('expose.failed', () => t.eventsLog().find((e) => e.type === 'expose.failed'), 60_000))
    const cpuUsed = cpuMs(supervisor) - cpuBefore

    const restarting = t.eventsLog().filter((e) => e.type === 'expose.restarting')
    expect(restarting.map((e) => e.delayMs)).toEqual([1000, 2000, 4000, 8000])
    expect(failed).toMatchObject({endpoint: endpoint.id, provider: 'cloudflare', restarts: 5, reason: 'exited with code 2'})
    expect(failed.lastLines.length).toBeGreaterThan(0)
    expect(t.fakeRuns()).toHaveLength(5)

    const samples: number[] = []
    for (let i = 0; i < 5; i++) {
      const [list, listMs] = await timed(() => t.json(['expose', 'list']))
      samples.push(listMs)
      expect(list.body[0]).toMatchObject({id: endpoint.id, status: 'failed', reason: expect.stringContaining('keeps dying soon after it starts')})
    }

    // A loop that spun would use a core for the whole wait; backoff leaves it nearly idle.
    expect(cpuUsed / loopMs).toBeLessThan(0.5)
    const human = await t.run(['expose', 'list'])
    expect(human.stdout).toContain(`${endpoint.id} failed: exited with code 2. It keeps dying`)
    const events = await t.run(['events'])
    expect(events.stdout).toMatch(/expose\.failed {2}\w+ {2}cloudflare {2}exited with code 2; failed after 5 restarts/)

    recordFigure(
      'Faults',
      'A provider process that dies at once, every time',
      `failed after 5 quick deaths (restarts after 1, 2, 4, 8 s), ${ms(loopMs)} after the first; supervisor CPU ${((100 * cpuUsed) / loopMs).toFixed(1)}% meanwhile; \`expose list\` median ${ms(median(samples))} while failed`,
    )
  })
})

describe('SIGTERM to the supervisor during a `tunnel start`', () => {
  it('fails the command with a clear error and leaves no process', async () => {
    t = new TestHome({FAKE_CLOUDFLARED_URL_DELAY_MS: '30000'})
    await t.run(['supervisor', 'start'])
    const supervisor = t.supervisorPid()!
    const start = t.spawn(['tunnel', 'start', '3000'])
    const [run] = await waitFor('cloudflared to be started', () => t.fakeRuns().length === 1 && t.fakeRuns())

    process.kill(supervisor, 'SIGTERM')
    const result = await start
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^Error: .*supervisor.*(stop|shut)/im)
    await waitFor('the supervisor and cloudflared to be gone', () => !isAlive(supervisor) && !isAlive(run.pid))
    expect(t.processes()).toEqual([])
    recordFigure('Faults', 'SIGTERM during `tunnel start`', `exit 1: "${String(result.stderr).split('\n')[0]}"; 0 processes left`)
  })
})

describe('when an endpoint file cannot be written', () => {
  const faults = {
    /** Root writes through permission bits, so as root the directory is made immutable instead. */
    'its directory is unwritable': () => {
      const dir = endpointsDir()
      if (process.getuid?.() === 0) {
        execFileSync('chattr', ['+i', dir])
        return () => execFileSync('chattr', ['-i', dir])
      }

      execFileSync('chmod', ['0500', dir])
      return () => execFileSync('chmod', ['0700', dir])
    },
    /** A file size limit on the supervisor makes the write stop part of the way through, as a full disk would. */
    'a write fails half way': () => {
      const pid = String(t.supervisorPid())
      execFileSync('prlimit', ['--pid', pid, '--fsize=64:'])
      return () => execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited:'])
    },
  }

  it.each(Object.keys(faults))('%s: expose start and update fail clearly, roll back, and leave the files byte for byte', async (fault) => {
    await configureForwarder()
    const kept = [await expose('fwd'), await expose('fwd', ['--auth'])]
    const before = filesIn(endpointsDir())
    const forwarders = () => t.processes().filter((p) => p.cmdline.startsWith('node') && p.cmdline.includes('fake-forwarder')).length
    expect(forwarders()).toBe(2)

    undo.push(faults[fault as keyof typeof faults]())
    const start = await t.run(['expose', 'start', String(appPort), '--provider', 'fwd', '--auth'])
    expect(start.exitCode).toBe(1)
    expect(start.stderr).toMatch(/^Error: Could not save .*endpoints\/[0-9a-f]{8}\.json: .*nothing was changed\.$/s)
    expect(start.stdout).not.toMatch(/Password/)
    const update = await t.run(['expose', 'update', kept[0].id, '--auth'])
    expect(update.exitCode).toBe(1)
    expect(update.stderr).toMatch(/Could not save/)

    expect(filesIn(endpointsDir())).toEqual(before)
    const list = (await t.json(['expose', 'list'])).body
    expect(list.map((e: any) => [e.id, e.auth, e.status])).toEqual([
      [kept[0].id, false, 'up'],
      [kept[1].id, true, 'up'],
    ])
    await waitFor('the rolled-back forwarder to be stopped', () => forwarders() === 2)

    undo.pop()!()
    expect((await t.run(['expose', 'start', String(appPort), '--provider', 'fwd'])).exitCode).toBe(0)
    recordFigure('Faults', `Endpoint file write fails: ${fault}`, `start and update exit 1 with "Could not save …"; ${Object.keys(before).length} files byte for byte unchanged; no temp file; the new forwarder stopped`)
  })
})

describe('endpoint files that cannot be read', () => {
  it('a corrupt, a future-version and a truncated file are reported and left in place; the rest come back', async () => {
    await configureForwarder()
    const good = await expose('fwd')
    await t.run(['supervisor', 'stop'])
    const goodText = readFileSync(join(endpointsDir(), `${good.id}.json`), 'utf8')
    const bad = {
      deadbeef: '{"version": 1, "id": "deadb',
      cafe0001: JSON.stringify({version: 2, id: 'cafe0001', fancy: true}),
      '0000aaaa': goodText.replace(good.id, '0000aaaa').slice(0, Math.floor(goodText.length / 2)),
    }
    for (const [id, text] of Object.entries(bad)) writeFileSync(join(endpointsDir(), `${id}.json`), text)

    await t.run(['supervisor', 'start'])
    const list = await waitFor('the good endpoint to be up', async () => {
      const body = (await t.json(['expose', 'list'])).body
      return body.find((e: any) => e.id === good.id)?.status === 'up' && body
    })
    expect(list.map((e: any) => [e.id, e.status])).toEqual([
      [good.id, 'up'],
      ['0000aaaa', 'broken'],
      ['cafe0001', 'broken'],
      ['deadbeef', 'broken'],
    ])
    expect(list[2].reason).toContain('version 2 is newer than this tunnelctl reads')
    for (const [id, text] of Object.entries(bad)) expect(readFileSync(join(endpointsDir(), `${id}.json`), 'utf8')).toBe(text)
    expect(t.eventsLog().filter((e) => e.type === 'expose.broken')).toHaveLength(3)

    const human = await t.run(['expose', 'list'])
    expect(human.stdout).toContain(`deadbeef broken: ${join(endpointsDir(), 'deadbeef.json')}:`)
    // Asked to stop one, tunnelctl still leaves it alone and says what to do.
    const stop = await t.run(['expose', 'stop', 'deadbeef'])
    expect(stop.exitCode).toBe(1)
    expect(stop.stderr).toContain(`Fix or delete ${join(endpointsDir(), 'deadbeef.json')}`)
    expect(readFileSync(join(endpointsDir(), 'deadbeef.json'), 'utf8')).toBe(bad.deadbeef)
    recordFigure('Faults', 'Corrupt, future-version and truncated endpoint files', '3 of 3 reported (list, expose.broken events) and left byte for byte; 1 of 1 good endpoint restored')
  })
})

describe('a webhook receiver that fails', () => {
  let receiver: WebhookReceiver
  let silent: Server | undefined
  beforeEach(() => {
    receiver = new WebhookReceiver()
  })
  afterEach(async () => {
    await receiver.close()
    silent?.closeAllConnections()
    silent?.close()
  })

  /** Accepts the POST and never answers it. */
  async function silentReceiver(requests: string[]): Promise<string> {
    silent = createServer((request) => request.on('data', (chunk: Buffer) => requests.push(chunk.toString())))
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(silent.address() as {port: number}).port}/hook`
  }

  it.each(['is down', 'answers 500', 'never answers'])('%s: events are still recorded, commands answer, and delivery is tried 3 times', async (how) => {
    const slowRequests: string[] = []
    const url = how === 'is down' ? 'http://127.0.0.1:9/hook' : how === 'answers 500' ? await receiver.start() : await silentReceiver(slowRequests)
    receiver.status = 500
    await t.run(['config', 'set', 'notify.webhook', url])
    t.fakeModeNext('crash-after-start')
    await t.run(['tunnel', 'start', '3000'])
    const crash = await waitFor('the crash event', async () => (await t.json(['events'])).body.find((e: any) => e.type === 'tunnel.crashed'))
    const [started, startMs] = await timed(() => t.run(['tunnel', 'start', '3001']))
    expect(started.exitCode).toBe(0)
    expect((await t.json(['supervisor', 'status'])).body.running).toBe(true)
    expect(t.eventsLog().some((e) => e.id === crash.id)).toBe(true)

    const log = () => readFileSync(join(t.home, 'run', 'supervisor.log'), 'utf8')
    const attemptsFor = (id: number) => [...log().matchAll(new RegExp(`failed for event ${id} \\(attempt (\\d)/3\\)`, 'g'))].map((m) => Number(m[1]))
    await waitFor('3 attempts for the crash event', () => attemptsFor(crash.id).length === 3, 30_000)
    expect(attemptsFor(crash.id)).toEqual([1, 2, 3])
    if (how === 'answers 500') expect(receiver.received.filter((e: any) => e.id === crash.id)).toHaveLength(3)
    if (how === 'never answers') expect(slowRequests.filter((body) => JSON.parse(body).id === crash.id)).toHaveLength(3)
    recordFigure('Faults', `Webhook receiver ${how}`, `every event recorded; \`tunnel start\` meanwhile took ${ms(startMs)}; delivery tried 3 times, then dropped`)
  })
})
