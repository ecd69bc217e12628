import {execa} from 'execa'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {fakeServiceCalls} from '../helpers/fake-service.js'

// The unit file is checked by systemd itself where it is installed (Debian: the systemd package).
const SYSTEMD_ANALYZE = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'systemd-analyze'))
  .find((file) => existsSync(file))
if (!SYSTEMD_ANALYZE) console.warn('systemd-analyze is not on PATH: the unit file is not verified by systemd (Debian: the systemd package provides it)')

let t: TestHome
let unit: string
let unitFile: string
beforeEach(() => {
  t = new TestHome()
  t.env.XDG_CONFIG_HOME = join(t.home, 'config')
  t.env.FAKE_SERVICE_CALLS = join(t.fakeState, 'service-calls.log')
  // A home of its own: its unit is named for it.
  unit = `tunnelctl-${createHash('sha256').update(t.home).digest('hex').slice(0, 8)}.service`
  unitFile = join(t.home, 'config', 'systemd', 'user', unit)
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const systemctlCalls = () => fakeServiceCalls(t.env)

/** The pid of the process the (fake) user manager runs for the unit. */
function servicePid(): number | undefined {
  const file = join(t.fakeState, `fake-service-${unit}.pid`)
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined
}

/** How the unit's process ended, as the manager saw it: what Restart=on-failure decides on. */
async function serviceExitStatus(): Promise<number> {
  const file = join(t.fakeState, `fake-service-${unit}.status`)
  return Number(await waitFor("the manager to see the service's process end", () => existsSync(file) && readFileSync(file, 'utf8').trim()))
}

async function verifyUnit(file: string): Promise<{exitCode: number | undefined; output: string}> {
  const verified = await execa(SYSTEMD_ANALYZE!, ['verify', file], {reject: false, env: {...process.env, SYSTEMD_LOG_COLOR: '0'}})
  return {exitCode: verified.exitCode, output: `${verified.stdout}${verified.stderr}`}
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
}

describe('supervisor install', () => {
  it('writes a user unit, enables and starts it, and its supervisor answers and never idles out', async () => {
    await t.run(['config', 'set', 'supervisor.idleTimeout', '1'])
    const installed = await t.run(['supervisor', 'install'])
    expect(installed.exitCode, installed.stderr).toBe(0)
    // install returns once the service's supervisor answers: the next command finds it.
    const pid = servicePid()
    expect(installed.stdout.replaceAll(t.home, '<home>')).toBe(
      [
        `Installed ${unit} (<home>/config/systemd/user/${unit}): the supervisor starts at login and restarts when it fails.`,
        `The supervisor (pid ${pid}) runs under it.`,
        'On a machine nobody logs in to, the user manager, and with it the supervisor, starts at boot only with lingering on: loginctl enable-linger $USER',
      ].join('\n'),
    )
    expect(systemctlCalls()).toEqual([
      ['--user', 'daemon-reload'],
      ['--user', 'enable', '--now', unit],
    ])
    expect(readFileSync(unitFile, 'utf8')).toMatch(/^Restart=on-failure$/m)

    const status = (await t.json(['supervisor', 'status'])).body
    expect(status).toMatchObject({running: true, pid, configDir: t.home, service: {installed: true, manager: 'systemd', name: unit, file: unitFile}})
    // The unit's sh has exec'd the same node and entry as auto-spawn, told not to idle out.
    expect(commandLine(pid!)).toBe(`${process.execPath} --max-semi-space-size=4 --optimize-for-size ${join(ROOT, 'dist', 'supervisor.js')} --no-idle-exit`)
    expect(readFileSync(join(t.home, 'run', 'supervisor.log'), 'utf8')).toContain(`supervisor ${pid} listening on`)

    // Idle for 1 s ends a supervisor a command spawned; the service's stays.
    await delay(3000)
    expect(isAlive(pid!), 'the service supervisor is still running past its idle timeout').toBe(true)
    expect(t.eventsLog().map((event) => event.type)).not.toContain('supervisor.stopped')
  })

  it('passes `systemd-analyze verify`', async (context) => {
    if (!SYSTEMD_ANALYZE) context.skip()
    expect((await t.run(['supervisor', 'install'])).exitCode).toBe(0)
    expect(await verifyUnit(unitFile)).toEqual({exitCode: 0, output: ''})
  })

  it("quotes a home holding quotes, % and $ so that systemd and sh read back the same home", async () => {
    const home = join(t.home, `it's "100%" $HOME`)
    const file = join(t.home, 'config', 'systemd', 'user', `tunnelctl-${createHash('sha256').update(home).digest('hex').slice(0, 8)}.service`)
    t.env.TUNNELCTL_HOME = home
    try {
      expect((await t.run(['supervisor', 'install'])).exitCode).toBe(0)
      expect((await t.json(['supervisor', 'status'])).body).toMatchObject({running: true, configDir: home, service: {installed: true, file}})
      if (SYSTEMD_ANALYZE) expect(await verifyUnit(file)).toEqual({exitCode: 0, output: ''})
    } finally {
      expect((await t.run(['supervisor', 'uninstall'])).exitCode).toBe(0)
    }

    expect((await t.json(['supervisor', 'status'])).body).toMatchObject({running: false, service: {installed: false}})
  })

  it('leaves nothing when the user manager cannot be reached or systemctl is missing, and says so', async () => {
    const result = await t.run(['supervisor', 'install'], {FAKE_SYSTEMCTL_NO_BUS: '1'})
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('`systemctl --user daemon-reload` failed (exit 1): Failed to connect to bus: No medium found. Is your systemd user manager running?')
    expect(existsSync(unitFile)).toBe(false)

    const noSystemctl = await t.run(['supervisor', 'install'], {PATH: join(t.home, 'no-such-dir')})
    expect(noSystemctl).toMatchObject({exitCode: 1, stderr: expect.stringContaining('systemctl was not found on PATH: the boot service needs it.')})
    expect(existsSync(unitFile)).toBe(false)
    expect(t.processes()).toEqual([])
  })

  it('run again, rewrites a changed unit and leaves the running supervisor alone', async () => {
    await t.run(['supervisor', 'install'])
    const pid = servicePid()
    expect((await t.run(['supervisor', 'install'])).stdout).toMatch(new RegExp(`^${unit} was already installed \\(`))
    writeFileSync(unitFile, readFileSync(unitFile, 'utf8').replace('RestartSec=2', 'RestartSec=9'))
    const again = await t.run(['supervisor', 'install'])
    expect(again.stdout).toMatch(new RegExp(`^Rewrote ${unit} .*\\nA supervisor it already runs keeps the old settings`))
    expect(readFileSync(unitFile, 'utf8')).toContain('RestartSec=2')
    expect(servicePid()).toBe(pid)
    expect(isAlive(pid!)).toBe(true)
  })
})

describe('with the unit installed', () => {
  beforeEach(async () => {
    expect((await t.run(['supervisor', 'install'])).exitCode).toBe(0)
  })

  it('supervisor stop ends it with status 0, so Restart=on-failure leaves it stopped; a kill is a failure', async () => {
    const first = servicePid()!
    expect((await t.run(['supervisor', 'stop'])).stdout).toMatch(/^Stopped the supervisor \(pid \d+\)/)
    expect(await serviceExitStatus()).toBe(0)
    expect(isAlive(first)).toBe(false)

    // SIGTERM (systemctl stop) is a clean stop too; SIGKILL (the OOM killer) is one systemd restarts after.
    await t.run(['tunnel', 'start', '3000'])
    process.kill(servicePid()!, 'SIGTERM')
    expect(await serviceExitStatus()).toBe(0)
    // Without a tunnel: systemd's KillMode=mixed would end what a killed supervisor leaves, the fake does not.
    await t.run(['tunnel', 'start', '3000'])
    await t.run(['tunnel', 'stop', '3000'])
    process.kill(servicePid()!, 'SIGKILL')
    expect(await serviceExitStatus()).toBe(128 + 9)
  })

  it('a command that needs the supervisor has the user manager start the unit, never a supervisor of its own', async () => {
    await t.run(['supervisor', 'stop'])
    await serviceExitStatus()
    const before = systemctlCalls().length

    const started = await t.run(['tunnel', 'start', '3000'])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(systemctlCalls().slice(before)).toEqual([['--user', 'start', unit]])
    const {pid} = (await t.json(['supervisor', 'status'])).body
    expect(pid).toBe(servicePid())
    expect(commandLine(pid)).toContain(' --no-idle-exit')
    // One supervisor: the unit's, with its tunnel's cloudflared.
    expect(t.processes().filter((p) => p.cmdline.includes('dist/supervisor.js'))).toEqual([{pid, cmdline: expect.any(String)}])
  })

  it('status and doctor say it is installed, and doctor warns when the unit is disabled or outdated', async () => {
    expect((await t.run(['supervisor', 'status'])).stdout).toContain(`Service:  ${unit}, installed (${unitFile}): starts the supervisor at login`)
    const doctor = async () => (await t.json(['doctor'])).body.checks.find((check: {id: string}) => check.id === 'service')
    expect(await doctor()).toEqual({id: 'service', status: 'ok', summary: `${unit} installed and enabled (${unitFile})`})

    rmSync(join(t.home, 'config', 'systemd', 'user', 'default.target.wants', unit))
    expect(await doctor()).toEqual({
      id: 'service',
      status: 'warn',
      summary: `${unit} is installed (${unitFile}) but not enabled: it will not start at login`,
      fix: 'tunnelctl supervisor install',
    })

    writeFileSync(unitFile, readFileSync(unitFile, 'utf8').replaceAll(process.execPath, '/opt/old-node/bin/node'))
    expect(await doctor()).toMatchObject({id: 'service', status: 'warn', fix: expect.stringMatching(/^tunnelctl supervisor install \(it rewrites the file\)/)})
  })

  it('uninstall stops, disables and deletes it; run again, it says there is nothing to remove', async () => {
    const pid = servicePid()!
    const before = systemctlCalls().length
    const removed = await t.run(['supervisor', 'uninstall'])
    expect(removed).toMatchObject({exitCode: 0, stdout: `Stopped, disabled and removed ${unit} (${unitFile}). Commands start the supervisor on demand again.`})
    expect(systemctlCalls().slice(before)).toEqual([
      ['--user', 'disable', '--now', unit],
      ['--user', 'daemon-reload'],
    ])
    expect(existsSync(unitFile)).toBe(false)
    expect(isAlive(pid)).toBe(false)

    const again = await t.json(['supervisor', 'uninstall'])
    expect(again).toMatchObject({exitCode: 0, body: {wasInstalled: false, manager: 'systemd', name: unit, file: unitFile}})
    expect(systemctlCalls()).toHaveLength(before + 2)
    expect((await t.json(['supervisor', 'status'])).body).toMatchObject({running: false, service: {installed: false}})
  })
})
