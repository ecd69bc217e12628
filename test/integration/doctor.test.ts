import {execa} from 'execa'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, type CliResult, FIXTURE_BIN, isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {OldSupervisor} from '../helpers/old-supervisor.js'

interface Check {
  id: string
  status: 'ok' | 'warn' | 'problem'
  summary: string
  fix?: string
}

interface Report {
  checks: Check[]
  problems: number
  warnings: number
}

const CHECK_ORDER = ['cloudflared', 'tailscale', 'cloudflared-config', 'supervisor', 'stale-files', 'service', 'permissions', 'endpoint-files', 'settings']
const VALID_ENDPOINT = {
  version: 1,
  id: 'a1b2c3d4',
  name: 'a1b2c3d4',
  provider: 'local',
  mode: 'private',
  target: '3000',
  auth: null,
  createdAt: '2026-11-21T06:10:00.000Z',
}

let t: TestHome
let userHome: string
let runDir: string
let endpointsDir: string
beforeEach(() => {
  t = new TestHome()
  // cloudflared reads its default config from $HOME: the user's own must not decide these tests.
  userHome = join(t.home, 'user')
  mkdirSync(userHome)
  t.env.HOME = userHome
  runDir = join(t.home, 'run')
  endpointsDir = join(t.home, 'expose', 'endpoints')
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function doctor(env: NodeJS.ProcessEnv = {}): Promise<{exitCode: number; report: Report; stderr: string}> {
  const result = await t.run(['doctor', '--json'], env)
  return {exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr}
}

function checksOf(report: Report, id: string): Check[] {
  return report.checks.filter((check) => check.id === id)
}

function only(report: Report, id: string): Check {
  const found = checksOf(report, id)
  expect(found, `exactly one ${id} check`).toHaveLength(1)
  return found[0]
}

/** Runs a fix as a user would paste it into a shell. */
async function applyFix(fix: string): Promise<void> {
  await execa('sh', ['-c', fix], {env: t.env, extendEnv: false})
}

function writeEndpoint(name: string, content: string, mode = 0o600): string {
  mkdirSync(endpointsDir, {recursive: true, mode: 0o700})
  const file = join(endpointsDir, name)
  writeFileSync(file, content, {mode})
  chmodSync(file, mode)
  return file
}

/** What is in the home, but for the state the fake binaries keep. */
function tunnelctlFiles(): string[] {
  return (readdirSync(t.home, {recursive: true}) as string[]).filter((name) => !name.startsWith('fake')).sort()
}

async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', ''])
  await child
  return child.pid!
}

/** The human output with what changes from run to run made fixed: the home, pids, versions, uptimes. */
function screen({stdout, stderr, exitCode}: CliResult): string {
  const text = [stdout && `stdout:\n${stdout}`, stderr && `stderr:\n${stderr}`, `exit ${exitCode}`].filter(Boolean).join('\n')
  return text
    .replaceAll(t.home, '<home>')
    .replaceAll(FIXTURE_BIN, '<fixtures>')
    .replace(/\bpid \d+/g, 'pid <pid>')
    .replace(/\b\d+\.\d+\.\d+\b/g, '<version>')
    .replace(/\bup \d+[smhd]( \d+[smh])?/g, 'up <uptime>')
}

describe('a healthy home', () => {
  it('is all ok, exits 0, and doctor starts no supervisor and creates nothing', async () => {
    const before = tunnelctlFiles()
    const result = await t.run(['doctor'])
    expect(screen(result)).toMatchInlineSnapshot(`
      "stdout:
      ok       cloudflared: <version> (<fixtures>/cloudflared, on PATH)
      ok       tailscale: <version> (<fixtures>/tailscale)
      ok       cloudflared-config: none where cloudflared looks for one by default
      ok       supervisor: not running; \`tunnelctl supervisor start\` starts it
      ok       stale-files: no socket, pid file or spawn lock left behind
      ok       service: not installed; \`tunnelctl supervisor install\` starts the supervisor at login
      ok       permissions: the run directory, socket, settings and endpoint files are yours alone
      ok       endpoint-files: none yet
      ok       settings: no settings file; every setting has its default

      No problems, no warnings.
      exit 0"
    `)
    expect(tunnelctlFiles()).toEqual(before)
    expect(t.processes()).toEqual([])
    expect((await t.json(['supervisor', 'status'])).body.running).toBe(false)
  })

  it('reads the versions the binaries print', async () => {
    const {report} = await doctor()
    expect(only(report, 'cloudflared')).toEqual({id: 'cloudflared', status: 'ok', summary: `2026.8.0 (${join(FIXTURE_BIN, 'cloudflared')}, on PATH)`})
    expect(only(report, 'tailscale')).toEqual({id: 'tailscale', status: 'ok', summary: `1.84.3 (${join(FIXTURE_BIN, 'tailscale')})`})
  })

  it('with a tunnel running: the supervisor is ok, with its pid, version, uptime and what it holds', async () => {
    expect((await t.run(['tunnel', 'start', '3000'])).exitCode).toBe(0)
    writeEndpoint('a1b2c3d4.json', JSON.stringify(VALID_ENDPOINT))
    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(0)
    expect(report.problems).toBe(0)
    expect(only(report, 'supervisor')).toMatchObject({status: 'ok', summary: expect.stringMatching(new RegExp(`^running: pid ${t.supervisorPid()}, tunnelctl 0\\.1\\.0, up \\d+s, 1 tunnel and 0 endpoints$`))})
    expect(only(report, 'stale-files').status).toBe('ok')
    expect(only(report, 'permissions').status).toBe('ok')
    expect(only(report, 'endpoint-files')).toEqual({id: 'endpoint-files', status: 'ok', summary: '1 endpoint file, all valid'})
  })

  it('--json prints one document: every check as {id, status, summary, fix?}, then the counts', async () => {
    const result = await t.run(['doctor', '--json'])
    expect(result.stderr).toBe('')
    const report = JSON.parse(result.stdout) as Report
    expect(Object.keys(report)).toEqual(['checks', 'problems', 'warnings'])
    expect(report.checks.map((check) => check.id)).toEqual(CHECK_ORDER)
    for (const check of report.checks) {
      expect(Object.keys(check)).toEqual(check.status === 'ok' ? ['id', 'status', 'summary'] : ['id', 'status', 'summary', 'fix'])
    }

    expect(report).toMatchObject({problems: 0, warnings: 0})
  })

  it('a bad flag is bad usage: exit 2', async () => {
    const result = await t.run(['doctor', '--fix'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/^Error: Nonexistent flag: --fix/)
  })
})

describe('what a broken home shows', () => {
  it('human output: each problem and warning with its fix below it, then the totals; exit 1', async () => {
    await t.run(['supervisor', 'start'])
    const supervisor = t.supervisorPid()!
    process.kill(supervisor, 'SIGKILL')
    await waitFor('the supervisor to die', () => !isAlive(supervisor))
    writeEndpoint('deadbeef.json', '{"version": 1, "id": "deadbeef"}', 0o644)
    mkdirSync(join(userHome, '.cloudflared'))
    writeFileSync(join(userHome, '.cloudflared', 'config.yml'), 'tunnel: 6ff42ae2\ningress:\n  - service: http_status:404\n')

    expect(screen(await t.run(['doctor']))).toMatchInlineSnapshot(`
      "stdout:
      ok       cloudflared: <version> (<fixtures>/cloudflared, on PATH)
      ok       tailscale: <version> (<fixtures>/tailscale)
      warn     cloudflared-config: <home>/user/.cloudflared/config.yml: its ingress rules send plain \`cloudflared tunnel --url\` runs to their catch-all instead of the --url. tunnelctl's own tunnels pass an isolated --config and are not affected.
               fix: Move it aside: mv <home>/user/.cloudflared/config.yml <home>/user/.cloudflared/config.yml.bak (a named tunnel that needs it can be run with --config <home>/user/.cloudflared/config.yml.bak)
      ok       supervisor: not running; \`tunnelctl supervisor start\` starts it
      problem  stale-files: <home>/run/supervisor.sock is left by a supervisor that did not exit cleanly: nothing listens on it
               fix: tunnelctl supervisor start (the supervisor it starts replaces the socket and ends what the old one left running)
      problem  stale-files: <home>/run/supervisor.pid names pid <pid>, which is not running: a supervisor that was killed left it
               fix: rm <home>/run/supervisor.pid
      ok       service: not installed; \`tunnelctl supervisor install\` starts the supervisor at login
      problem  permissions: <home>/expose/endpoints/deadbeef.json is mode 0644, not 0600: it holds the endpoint's password hash
               fix: chmod 600 <home>/expose/endpoints/deadbeef.json
      problem  endpoint-files: <home>/expose/endpoints/deadbeef.json is not served: "name" must be a non-empty string
               fix: Correct it, or delete it: rm <home>/expose/endpoints/deadbeef.json
      ok       settings: no settings file; every setting has its default

      4 problems, 1 warning.
      exit 1"
    `)
  })

  it('a corrupt endpoint file is a problem naming the file and why, exit 1, and is left as it is', async () => {
    writeEndpoint('a1b2c3d4.json', JSON.stringify(VALID_ENDPOINT))
    const broken = writeEndpoint('deadbeef.json', JSON.stringify({...VALID_ENDPOINT, id: 'deadbeef', mode: 'sideways'}))
    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(checksOf(report, 'endpoint-files')).toEqual([
      {id: 'endpoint-files', status: 'problem', summary: `${broken} is not served: "mode" must be one of public, private`, fix: `Correct it, or delete it: rm ${broken}`},
    ])
    expect(report.problems).toBe(1)
    expect(existsSync(broken)).toBe(true)
  })

  it('loose permissions are problems, each with the chmod that fixes it', async () => {
    await t.run(['config', 'set', 'supervisor.idleTimeout', '60'])
    mkdirSync(runDir)
    chmodSync(runDir, 0o755)
    const endpoint = writeEndpoint('a1b2c3d4.json', JSON.stringify(VALID_ENDPOINT), 0o644)
    chmodSync(join(t.home, 'config.json'), 0o640)
    chmodSync(endpointsDir, 0o711)

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(checksOf(report, 'permissions').map(({status, fix}) => ({status, fix}))).toEqual([
      {status: 'problem', fix: `chmod 700 ${runDir}`},
      {status: 'problem', fix: `chmod 600 ${join(t.home, 'config.json')}`},
      {status: 'problem', fix: `chmod 700 ${endpointsDir}`},
      {status: 'problem', fix: `chmod 600 ${endpoint}`},
    ])
    expect(checksOf(report, 'permissions')[0].summary).toBe(`${runDir} is mode 0755, not 0700: anyone who can reach the socket can drive your supervisor`)

    for (const check of checksOf(report, 'permissions')) await applyFix(check.fix!)
    const fixed = await doctor()
    expect(fixed.exitCode).toBe(0)
    expect(only(fixed.report, 'permissions').status).toBe('ok')
  })

  it('a socket and pid file left by a killed supervisor are problems; the fixes clear them', async () => {
    await t.run(['tunnel', 'start', '3000'])
    const killed = t.supervisorPid()!
    process.kill(killed, 'SIGKILL')
    await waitFor('the supervisor to die', () => !isAlive(killed))

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(only(report, 'supervisor')).toMatchObject({status: 'ok', summary: 'not running; `tunnelctl supervisor start` starts it'})
    const stale = checksOf(report, 'stale-files')
    expect(stale).toEqual([
      {
        id: 'stale-files',
        status: 'problem',
        summary: `${join(runDir, 'supervisor.sock')} is left by a supervisor that did not exit cleanly: nothing listens on it`,
        fix: 'tunnelctl supervisor start (the supervisor it starts replaces the socket and ends what the old one left running)',
      },
      {
        id: 'stale-files',
        status: 'problem',
        summary: `${join(runDir, 'supervisor.pid')} names pid ${killed}, which is not running: a supervisor that was killed left it`,
        fix: `rm ${join(runDir, 'supervisor.pid')}`,
      },
    ])
    expect(existsSync(join(runDir, 'supervisor.sock')), 'doctor removes nothing').toBe(true)

    // The socket's fix starts a supervisor, which also ends the cloudflared the killed one left.
    expect((await t.run(['supervisor', 'start'])).exitCode).toBe(0)
    const fixed = await doctor()
    expect(fixed.exitCode).toBe(0)
    expect(only(fixed.report, 'stale-files').status).toBe('ok')
    expect(only(fixed.report, 'supervisor').summary).toMatch(/^running: pid \d+, tunnelctl 0\.1\.0, up \d+s, 0 tunnels and 0 endpoints$/)
  })

  it('a pid file naming another process, and a spawn lock whose holder died, are problems', async () => {
    mkdirSync(runDir, {mode: 0o700})
    writeFileSync(join(runDir, 'supervisor.pid'), `${process.pid}\n`)
    writeFileSync(join(runDir, 'spawn.lock'), String(await deadPid()))

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    const [pidFile, lock] = checksOf(report, 'stale-files')
    expect(pidFile.status).toBe('problem')
    expect(pidFile.summary).toMatch(new RegExp(`supervisor\\.pid names pid ${process.pid}, which is now another process \\(.*node.*\\): a supervisor that was killed left it$`))
    expect(pidFile.fix).toBe(`rm ${join(runDir, 'supervisor.pid')}`)
    expect(lock).toEqual({
      id: 'stale-files',
      status: 'problem',
      summary: `${join(runDir, 'spawn.lock')} is left by a command that died or hung while starting a supervisor`,
      fix: `rm ${join(runDir, 'spawn.lock')}`,
    })

    await applyFix(pidFile.fix!)
    await applyFix(lock.fix!)
    expect((await doctor()).exitCode).toBe(0)
  })

  it('a lock claim left by a process killed while taking over the lock is a problem; its fix clears it', async () => {
    mkdirSync(runDir, {mode: 0o700})
    const claim = join(runDir, 'spawn.lock.claim')
    writeFileSync(claim, '')
    const longAgo = new Date(Date.now() - 60_000)
    utimesSync(claim, longAgo, longAgo)

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(checksOf(report, 'stale-files')).toEqual([
      {
        id: 'stale-files',
        status: 'problem',
        summary: `${claim} is left by a process killed while it took over a lock: no supervisor can start until it is gone`,
        fix: `rm ${claim}`,
      },
    ])
    await applyFix(checksOf(report, 'stale-files')[0].fix!)
    expect((await doctor()).exitCode).toBe(0)
  })

  it('a supervisor whose socket was removed is a problem: nothing can reach it, and it is to be killed', async () => {
    await t.run(['supervisor', 'start'])
    const lost = t.supervisorPid()!
    rmSync(join(runDir, 'supervisor.sock'))

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(checksOf(report, 'supervisor')).toEqual([
      {
        id: 'supervisor',
        status: 'problem',
        summary: `pid ${lost}, named by ${join(runDir, 'supervisor.pid')}, is a tunnelctl supervisor, but nothing answers on ${join(runDir, 'supervisor.sock')}: no command can reach it or stop what it runs`,
        fix: `kill ${lost} (it stops what it runs, then exits)`,
      },
    ])
    expect(only(report, 'stale-files').status).toBe('ok')

    process.kill(lost, 'SIGTERM')
    await waitFor('the unreachable supervisor to exit', () => !isAlive(lost))
  })

  describe('a supervisor of another version', () => {
    let old: OldSupervisor
    beforeEach(() => {
      // Its pid is a live process: this test's own.
      old = new OldSupervisor(t.home, process.pid)
    })
    afterEach(() => old.close())

    it('holding tunnels is a problem, fixed by `supervisor stop`', async () => {
      await old.start(2)
      const {exitCode, report} = await doctor()
      expect(exitCode).toBe(1)
      expect(only(report, 'supervisor')).toEqual({
        id: 'supervisor',
        status: 'problem',
        summary: `the running supervisor (pid ${process.pid}) is tunnelctl 0.0.1 and this is 0.1.0; it holds 2 tunnels and 0 endpoints, so commands refuse to use it`,
        fix: 'tunnelctl supervisor stop (it stops its tunnels; endpoints come back with the new supervisor)',
      })
    })

    it('holding nothing is a warning: the next command replaces it', async () => {
      await old.start(0)
      const {exitCode, report} = await doctor()
      expect(exitCode).toBe(0)
      expect(only(report, 'supervisor')).toMatchObject({status: 'warn', fix: 'tunnelctl supervisor stop'})
      expect(only(report, 'supervisor').summary).toContain('it holds nothing, so the next command that changes something replaces it')
    })
  })
})

describe('values in the settings file', () => {
  it('each bad value is a problem naming the key, the value, what is accepted and the fix; an unknown key is a warning', async () => {
    const file = join(t.home, 'config.json')
    writeFileSync(file, JSON.stringify({supervisor: {idleTimeout: 'abc'}, notify: {webhook: 'ftp://x'}, someday: {feature: 'a secret of a newer tunnelctl'}}), {mode: 0o600})
    const human = await t.run(['doctor'])
    const lines = screen(human).split('\n')
    expect(lines.slice(lines.findIndex((line) => line.includes(' endpoint-files: '))).join('\n')).toMatchInlineSnapshot(`
      "ok       endpoint-files: none yet
      problem  settings: supervisor.idleTimeout is "abc": supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc". Until it is fixed tunnelctl uses its default, 300
               fix: tunnelctl config set supervisor.idleTimeout <value>, or tunnelctl config unset supervisor.idleTimeout for the default (300)
      problem  settings: notify.webhook is "ftp://x": notify.webhook must be an http or https URL, not ftp. Until it is fixed tunnelctl treats it as not set
               fix: tunnelctl config set notify.webhook <value>, or tunnelctl config unset notify.webhook to leave it unset
      warn     settings: <home>/config.json holds "someday.feature", which this tunnelctl does not know and ignores (a newer tunnelctl may have written it)
               fix: If a newer tunnelctl wrote it, leave it. Otherwise remove it from <home>/config.json, and set what you meant with tunnelctl config set <key> <value> (tunnelctl config list shows the keys)

      2 problems, 1 warning.
      exit 1"
    `)
    expect(human.stdout).not.toContain('a secret of a newer tunnelctl')

    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(1)
    expect(checksOf(report, 'settings')).toEqual([
      {
        id: 'settings',
        status: 'problem',
        summary: 'supervisor.idleTimeout is "abc": supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc". Until it is fixed tunnelctl uses its default, 300',
        fix: 'tunnelctl config set supervisor.idleTimeout <value>, or tunnelctl config unset supervisor.idleTimeout for the default (300)',
      },
      {
        id: 'settings',
        status: 'problem',
        summary: 'notify.webhook is "ftp://x": notify.webhook must be an http or https URL, not ftp. Until it is fixed tunnelctl treats it as not set',
        fix: 'tunnelctl config set notify.webhook <value>, or tunnelctl config unset notify.webhook to leave it unset',
      },
      {
        id: 'settings',
        status: 'warn',
        summary: `${file} holds "someday.feature", which this tunnelctl does not know and ignores (a newer tunnelctl may have written it)`,
        fix: `If a newer tunnelctl wrote it, leave it. Otherwise remove it from ${file}, and set what you meant with tunnelctl config set <key> <value> (tunnelctl config list shows the keys)`,
      },
    ])
    expect(report).toMatchObject({problems: 2, warnings: 1})

    expect((await t.run(['config', 'unset', 'supervisor.idleTimeout'])).exitCode).toBe(0)
    expect((await t.run(['config', 'set', 'notify.webhook', 'https://hooks.example.test/tunnelctl'])).exitCode).toBe(0)
    const fixed = await doctor()
    expect(fixed.exitCode, 'an unknown key alone is a warning').toBe(0)
    expect(checksOf(fixed.report, 'settings').map((check) => check.status)).toEqual(['warn'])
  })
})

describe('binaries', () => {
  it('cloudflared missing from PATH is a warning with the install hint; exit 0', async () => {
    const emptyDir = join(t.home, 'empty-bin')
    mkdirSync(emptyDir)
    const {exitCode, report} = await doctor({PATH: emptyDir})
    expect(exitCode).toBe(0)
    const cloudflared = only(report, 'cloudflared')
    expect(cloudflared).toMatchObject({status: 'warn', summary: 'not found; tunnels and the cloudflare provider need it'})
    for (const how of ['tunnelctl cloudflared install', 'brew install cloudflared', 'apt-get install cloudflared', 'winget install --id Cloudflare.cloudflared']) expect(cloudflared.fix).toContain(how)
    expect(only(report, 'tailscale')).toMatchObject({status: 'warn', summary: 'not found; only the tailscale provider needs it'})
    expect(only(report, 'tailscale').fix).toContain('https://tailscale.com/download')
  })

  it('says which cloudflared is used and how it was found: cloudflared.path, then PATH, then the installed copy', async () => {
    const installed = join(t.home, 'bin', 'cloudflared')
    const chosen = join(t.home, 'chosen', 'cloudflared')
    for (const file of [installed, chosen]) {
      mkdirSync(dirname(file))
      copyFileSync(join(FIXTURE_BIN, 'cloudflared'), file)
    }

    const withoutFixtures = dirname(process.execPath)
    expect(only((await doctor({PATH: withoutFixtures})).report, 'cloudflared').summary).toBe(`2026.8.0 (${installed}, installed by tunnelctl cloudflared install)`)
    expect(only((await doctor()).report, 'cloudflared').summary).toBe(`2026.8.0 (${join(FIXTURE_BIN, 'cloudflared')}, on PATH)`)
    expect((await t.run(['config', 'set', 'cloudflared.path', chosen])).exitCode).toBe(0)
    expect(only((await doctor()).report, 'cloudflared').summary).toBe(`2026.8.0 (${chosen}, set as cloudflared.path)`)

    rmSync(chosen)
    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(0)
    expect(only(report, 'cloudflared')).toMatchObject({status: 'warn', summary: 'cloudflared.path is not an executable file', fix: expect.stringContaining(`cloudflared.path is set to ${chosen}`)})
  })

  it('a cloudflared that fails to print its version is a problem', async () => {
    const bin = join(t.home, 'broken-bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'cloudflared'), '#!/bin/sh\necho "exec format error: libc.so.6 not found" >&2\nexit 3\n', {mode: 0o755})
    const {exitCode, report} = await doctor({PATH: [bin, FIXTURE_BIN].join(':')})
    expect(exitCode).toBe(1)
    expect(only(report, 'cloudflared')).toEqual({
      id: 'cloudflared',
      status: 'problem',
      summary: `${join(bin, 'cloudflared')} is there but \`${join(bin, 'cloudflared')} --version\` failed: it exited with code 3: exec format error: libc.so.6 not found`,
      fix: `Run \`${join(bin, 'cloudflared')} --version\` to see what is wrong, and reinstall cloudflared if it is broken.`,
    })
  })
})

describe('a cloudflared config in HOME', () => {
  it('with ingress rules is a warning naming it, whose mv fix clears it', async () => {
    const config = join(userHome, '.cloudflared', 'config.yml')
    mkdirSync(join(userHome, '.cloudflared'))
    writeFileSync(config, 'tunnel: 6ff42ae2\ncredentials-file: /x.json\ningress:\n  - hostname: app.example.com\n    service: http://localhost:8000\n  - service: http_status:404\n')
    const {exitCode, report} = await doctor()
    expect(exitCode).toBe(0)
    const check = only(report, 'cloudflared-config')
    expect(check.status).toBe('warn')
    expect(check.summary).toBe(
      `${config}: its ingress rules send plain \`cloudflared tunnel --url\` runs to their catch-all instead of the --url. tunnelctl's own tunnels pass an isolated --config and are not affected.`,
    )
    expect(check.fix).toContain(`mv ${config} ${config}.bak`)

    await applyFix(`mv ${config} ${config}.bak`)
    expect(only((await doctor()).report, 'cloudflared-config').status).toBe('ok')
  })

  it('without ingress, in a later place cloudflared looks, is still named', async () => {
    const config = join(userHome, 'cloudflare-warp', 'config.yaml')
    mkdirSync(join(userHome, 'cloudflare-warp'))
    writeFileSync(config, 'loglevel: debug\n')
    const check = only((await doctor()).report, 'cloudflared-config')
    expect(check).toMatchObject({status: 'warn', summary: expect.stringMatching(new RegExp(`^${config}: its settings apply to every plain cloudflared run\\.`))})
  })
})

describe('colour', () => {
  async function onTerminal(env: NodeJS.ProcessEnv): Promise<string> {
    const result = await execa('script', ['-qec', `'${process.execPath}' '${BIN}' doctor`, '/dev/null'], {env, extendEnv: false, reject: false})
    return result.stdout
  }

  it('marks the status words on a terminal, and not with NO_COLOR', async () => {
    const {NO_COLOR: _, ...colourful} = t.env
    expect(await onTerminal({...colourful, TERM: 'xterm'})).toContain('\u001B[32mok\u001B[39m       cloudflared:')
    expect(await onTerminal({...colourful, TERM: 'xterm', NO_COLOR: '1'})).not.toContain('\u001B')
  })
})
