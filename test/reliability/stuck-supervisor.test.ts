import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {ms, recordFigure} from '../helpers/figures.js'
import {SilentSupervisor} from '../helpers/old-supervisor.js'

/** A supervisor that takes connections and never answers: every command gives up in time, and says what to do. */
let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

function notAnswering(pid: number): RegExp {
  return new RegExp(`^Error: The supervisor \\(pid ${pid}\\) is not answering: .* no reply within \\d+s\\. Its log is .*supervisor\\.log\\. .*\`tunnelctl supervisor stop\`.*\`tunnelctl doctor\``)
}

describe('a supervisor that takes connections and never answers', () => {
  let silent: SilentSupervisor
  beforeEach(async () => {
    // The pid file names this test's own process: alive, and no supervisor.
    silent = new SilentSupervisor(t.home, process.pid)
    await silent.start()
  })
  afterEach(() => silent.close())

  it('every command gives up, names its pid and log, says what to do, and exits 1; stop signals nothing that is not a supervisor', async () => {
    const started = performance.now()
    const [list, endpoints, start, events, status] = await Promise.all([
      t.run(['tunnel', 'list']),
      t.json(['expose', 'list']),
      t.run(['tunnel', 'start', '3000', '--timeout', '1']),
      t.run(['events']),
      t.run(['supervisor', 'status']),
    ])
    const wallMs = performance.now() - started
    for (const result of [list, start, events, status]) {
      expect(result.exitCode, result.stderr).toBe(1)
      expect(result.stderr).toMatch(notAnswering(process.pid))
    }

    expect(endpoints.exitCode).toBe(1)
    expect(endpoints.body.error).toMatchObject({code: 'SUPERVISOR_UNAVAILABLE', message: expect.stringContaining(`(pid ${process.pid}) is not answering`)})

    const stop = await t.run(['supervisor', 'stop'])
    expect(stop.exitCode).toBe(1)
    expect(stop.stderr).toContain('names no running supervisor, so nothing was stopped')
    recordFigure('Faults', 'A supervisor that never answers', `5 of 5 commands gave up with exit 1 and the pid, all within ${ms(wallMs)}`)
  })
})

describe('a supervisor that answers its status and nothing else', () => {
  it('a start gives up after its --timeout and a margin, and says so', async () => {
    const silent = new SilentSupervisor(t.home, process.pid, true)
    await silent.start()
    try {
      const start = await t.json(['tunnel', 'start', '3000', '--timeout', '1'])
      expect(start.exitCode).toBe(1)
      expect(start.body.error).toMatchObject({code: 'SUPERVISOR_UNAVAILABLE'})
      expect(start.body.error.message).toMatch(new RegExp(`^The supervisor \\(pid ${process.pid}\\) is not answering: POST /v1/tunnels got no reply within 16s\\.`))
    } finally {
      silent.close()
    }
  })
})

describe('a real supervisor that has stopped answering (SIGSTOP)', () => {
  it('supervisor stop ends it by its pid, SIGTERM then SIGKILL, and the next supervisor ends what it left running', async () => {
    expect((await t.run(['tunnel', 'start', '3000'])).exitCode).toBe(0)
    const stuck = t.supervisorPid()!
    const [cloudflared] = t.fakeRuns()
    process.kill(stuck, 'SIGSTOP')

    const list = await t.run(['tunnel', 'list'])
    expect(list.exitCode).toBe(1)
    expect(list.stderr).toMatch(notAnswering(stuck))

    const doctor = await t.json(['doctor'])
    expect(doctor.exitCode).toBe(1)
    expect(doctor.body.checks.find((c: {id: string}) => c.id === 'supervisor')).toEqual({
      id: 'supervisor',
      status: 'problem',
      summary: `pid ${stuck} is a tunnelctl supervisor that takes requests and does not answer them: GET /v1/status got no reply within 10s`,
      fix: 'tunnelctl supervisor stop (it ends a supervisor that does not answer by its pid: SIGTERM, then SIGKILL)',
    })

    const stop = await t.json(['supervisor', 'stop'])
    expect(stop.exitCode, stop.stderr).toBe(0)
    expect(stop.body).toMatchObject({wasRunning: true, signal: 'SIGKILL'})
    expect(isAlive(stuck)).toBe(false)
    expect(isAlive(cloudflared.pid), 'its cloudflared, until a supervisor starts').toBe(true)

    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    await waitFor('the cloudflared it left to be ended', () => !isAlive(cloudflared.pid))
    expect(t.eventsLog().filter((e) => e.type === 'tunnel.lost').map((e) => e.port)).toEqual([3000])
    expect((await t.json(['tunnel', 'list'])).body).toEqual([])
  })
})
