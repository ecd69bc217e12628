import {dirname} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome} from '../helpers/cli.js'

let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function expectNothingListed(): Promise<void> {
  expect((await t.json(['tunnel', 'list'])).body).toEqual([])
}

describe('when cloudflared fails, start fails clearly, stops it and lists nothing', () => {
  it('API unreachable: exit 1 with the hint and cloudflared last line, never the api URL as a tunnel', async () => {
    t.fakeMode('api-unreachable')
    const start = await t.run(['tunnel', 'start', '3000'])
    expect(start.exitCode).toBe(1)
    expect(start.stdout).toBe('')
    expect(start.stderr).toMatch(/^Error: cloudflared exited with code 1 before the tunnel was up\. cloudflared could not reach api\.trycloudflare\.com/)
    expect(start.stderr).toContain('  failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel"')
    await expectNothingListed()
  })

  it('rate limited (429): exit 1 and says to wait', async () => {
    t.fakeMode('rate-limited')
    const start = await t.json(['tunnel', 'start', '3000'])
    expect(start.exitCode).toBe(1)
    expect(start.body.error.code).toBe('TUNNEL_FAILED')
    expect(start.body.error.message).toContain('TryCloudflare is rate limiting this machine (HTTP 429)')
    expect(start.body.error.message).toContain("failed to unmarshal quick Tunnel: invalid character 'e'")
    await expectNothingListed()
  })

  it('no URL within --timeout: exit 1, the process is stopped', async () => {
    t.fakeMode('no-url')
    const start = await t.run(['tunnel', 'start', '3000', '--timeout', '1'])
    expect(start.exitCode).toBe(1)
    expect(start.stderr).toMatch(/^Error: cloudflared printed no tunnel URL within 1s; it was stopped\. Raise the limit with --timeout\./)
    const [run] = t.fakeRuns()
    expect(isAlive(run.pid)).toBe(false)
    await expectNothingListed()
  })

  it('a fatal error after the URL was printed is a failure, not a tunnel', async () => {
    t.fakeMode('metrics-taken')
    const start = await t.run(['tunnel', 'start', '3000'])
    expect(start.exitCode).toBe(1)
    expect(start.stderr).toContain('Error opening metrics server listener')
    await expectNothingListed()
  })

  it('cloudflared not on PATH: says how to install it, exit 1, starts nothing', async () => {
    const start = await t.run(['tunnel', 'start', '3000'], {PATH: `${dirname(process.execPath)}:/usr/bin:/bin`})
    expect(start.exitCode).toBe(1)
    expect(start.stderr).toContain('cloudflared was not found on PATH')
    for (const how of ['brew install cloudflared', 'apt-get install cloudflared', 'winget install --id Cloudflare.cloudflared', 'https://developers.cloudflare.com/']) {
      expect(start.stderr).toContain(how)
    }

    expect(t.fakeRuns()).toEqual([])
    await expectNothingListed()
  })
})

describe('bad input gets a clear error, exit 2, and touches nothing', () => {
  const badPorts = ['abc', '0', '70000', '30.5', '-1', ' 3000', '0x10', '+80', '1e3', '99999999999999999999']
  it.each(badPorts)('tunnel start "%s"', async (port) => {
    const start = await t.run(['tunnel', 'start', port])
    expect(start.exitCode).toBe(2)
    expect(start.stderr).toBe(`Error: Invalid port "${port}": give a whole number from 1 to 65535, for example 3000.`)
    // Validation happens before any supervisor is asked.
    expect(t.processes()).toEqual([])
  })

  it('reports bad input as a JSON error with --json', async () => {
    const start = await t.json(['tunnel', 'start', 'abc'])
    expect(start).toEqual({
      exitCode: 2,
      stderr: '',
      body: {error: {code: 'BAD_INPUT', message: 'Invalid port "abc": give a whole number from 1 to 65535, for example 3000.'}},
    })
  })

  it.each([
    [['tunnel', 'stop', 'abc'], 'Invalid port "abc"'],
    [['tunnel', 'start', '3000', '--timeout', 'soon'], 'Invalid --timeout "soon"'],
    [['tunnel', 'start', '3000', '--timeout', '0'], 'Invalid --timeout "0"'],
    [['tunnel', 'start'], 'Missing 1 required arg'],
    [['tunnel', 'start', '3000', '--bogus'], 'Nonexistent flag: --bogus'],
    [['tunnel', 'start', '3000', '4000'], 'Unexpected argument: 4000'],
    [['supervisor', 'logs', '-n', 'many'], 'Invalid --lines "many"'],
    [['config', 'set', 'no.such.key', 'x'], 'Unknown setting "no.such.key"'],
    [['config', 'set', 'notify.webhook', 'not a url'], '"not a url" is not a URL'],
    [['config', 'set', 'notify.webhook', 'ftp://example.test/'], 'must be an http or https URL'],
    [['config', 'set', 'supervisor.idleTimeout', '-5'], 'whole number of seconds'],
  ])('%j', async (args, message) => {
    const result = await t.run(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(message)
    expect(result.stderr).toMatch(/^Error: /)
    expect(t.processes()).toEqual([])
  })

  it('an unknown command exits 2', async () => {
    const result = await t.run(['tunnel', 'launch', '3000'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toBe('Error: Unknown command "tunnel launch". Run `tunnelctl tunnel --help` to see the commands.')
  })
})
