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
    expect(start.stderr).toContain('cloudflared was not found (not set as cloudflared.path, not on PATH, not installed by tunnelctl), and nothing was downloaded')
    for (const how of ['tunnelctl cloudflared install', '--install-cloudflared', 'TUNNELCTL_INSTALL_CLOUDFLARED=1', 'brew install cloudflared', 'apt-get install cloudflared', 'winget install --id Cloudflare.cloudflared', 'https://developers.cloudflare.com/']) {
      expect(start.stderr).toContain(how)
    }

    expect(t.fakeRuns()).toEqual([])
    await expectNothingListed()
  })
})

