import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createCloudflareProvider} from '../../src/providers/cloudflare/cloudflare-provider.js'
import type {Provider, PublicationState, PublishRequest} from '../../src/providers/provider.js'
import {isRunning} from '../../src/process/process-alive.js'
import {FIXTURE_BIN, waitFor} from '../helpers/cli.js'
import {ProviderHarness} from '../helpers/provider-harness.js'

// vitest runs each file in a process of its own: the fake cloudflared is first on PATH here only.
const FAKE_STATE = mkdtempSync(join(tmpdir(), 'tcf-'))
const PATH_WITH_FAKE = [FIXTURE_BIN, process.env.PATH].join(delimiter)
process.env.PATH = PATH_WITH_FAKE
process.env.FAKE_CLOUDFLARED_STATE = FAKE_STATE

// Nothing needs to listen there: the fake never connects to its origin.
const PROXY_PORT = 41_234
const QUICK_URL = /^https:\/\/[a-z]+(-[a-z]+){3}\.trycloudflare\.com$/
// As `cloudflared tunnel token` prints it: base64 of the account, the tunnel id and its secret.
const TOKEN = Buffer.from(JSON.stringify({a: '4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f', t: '6ff42ae2-765d-4adf-8112-31c55c1551ef', s: 'c2VjcmV0IG9mIHRoZSB0dW5uZWw='})).toString('base64')

interface FakeRun {
  pid: number
  args: string[]
  tunnelEnv: string[]
  tokenFrom?: 'args' | 'env'
}

interface Endpoint extends PublishRequest {
  states: PublicationState[]
}

let harness: ProviderHarness
let provider: Provider

beforeEach(() => {
  for (const name of readdirSync(FAKE_STATE)) rmSync(join(FAKE_STATE, name))
  harness = new ProviderHarness()
  provider = createCloudflareProvider(harness.context(PROXY_PORT))
})

afterEach(async () => {
  try {
    await provider.close()
  } finally {
    process.env.PATH = PATH_WITH_FAKE
    expect(harness.cleanup(), 'processes left behind').toEqual([])
  }
})

function endpoint(id: string, name = id): Endpoint {
  const states: PublicationState[] = []
  // No search path: cloudflared is looked for on this process's PATH, which the tests set.
  return {id, name, mode: 'public', searchPath: undefined, states, onState: (state) => states.push(state)}
}

function fakeMode(mode: string): void {
  writeFileSync(join(FAKE_STATE, 'mode'), mode)
}

function fakeRuns(): FakeRun[] {
  return readdirSync(FAKE_STATE)
    .filter((name) => /^\d+\.json$/.test(name))
    .map((name) => JSON.parse(readFileSync(join(FAKE_STATE, name), 'utf8')) as FakeRun)
}

function configFileOf(run: FakeRun): string {
  return run.args[run.args.indexOf('--config') + 1]
}

describe('without a token: a quick tunnel per endpoint', () => {
  it('publishes each endpoint on its own trycloudflare hostname, a cloudflared pointed at the proxy', async () => {
    const a = await provider.publish(endpoint('aaaa1111'))
    expect(a.url).toMatch(QUICK_URL)
    expect(a.host).toBe(new URL(a.url).host)

    const [run] = fakeRuns()
    expect(run.args).toEqual(expect.arrayContaining(['--no-autoupdate', '--url', `http://localhost:${PROXY_PORT}`]))
    expect(configFileOf(run).startsWith(`${harness.runtimeDir}/`)).toBe(true)
    expect(readFileSync(configFileOf(run), 'utf8')).not.toContain('ingress')
    expect(run.tunnelEnv).toEqual([])

    const b = await provider.publish(endpoint('bbbb2222'))
    expect(b.url).toMatch(QUICK_URL)
    expect(fakeRuns()).toHaveLength(2)

    await provider.unpublish('aaaa1111')
    const [first, second] = harness.spawned
    expect(isRunning(first.pid)).toBe(false)
    expect(isRunning(second.pid)).toBe(true)

    await provider.unpublish('bbbb2222')
    expect(harness.cleanup()).toEqual([])
  })

  it('when cloudflared crashes it is restarted, and the endpoint hears of its new hostname', async () => {
    fakeMode('crash-after-start')
    const request = endpoint('cccc3333')
    const first = await provider.publish(request)
    fakeMode('ok')

    await waitFor('the crash', () => harness.downs.length > 0)
    expect(harness.downs[0]).toMatchObject({restarts: 1, reason: 'exited with code 2'})
    expect(harness.downs[0].lastLines).toContain('panic: runtime error: invalid memory address or nil pointer dereference')

    const up = await waitFor('the restart', () => request.states.find((state) => state.status === 'up'), 20_000)
    expect(request.states[0]).toEqual({status: 'restarting', restarts: 1, reason: 'exited with code 2'})
    expect(up).toEqual({status: 'up', restarts: 1, publication: {url: expect.stringMatching(QUICK_URL), host: expect.any(String)}})
    if (up.status === 'up') {
      expect(up.publication.url).not.toBe(first.url)
      expect(up.publication.host).toBe(new URL(up.publication.url).host)
    }

    await provider.unpublish('cccc3333')
    expect(harness.cleanup()).toEqual([])
  })

  it('a cloudflared that fails to start rejects the publish and leaves nothing running', async () => {
    fakeMode('api-unreachable')
    await expect(provider.publish(endpoint('dddd4444'))).rejects.toMatchObject({
      code: 'TUNNEL_FAILED',
      message: expect.stringContaining('cloudflared could not reach api.trycloudflare.com'),
    })
    expect(harness.cleanup()).toEqual([])
  })
})

describe('with cloudflare.token and cloudflare.domain: one named tunnel for every endpoint', () => {
  beforeEach(async () => {
    await harness.settings.set('cloudflare.token', TOKEN)
    await harness.settings.set('cloudflare.domain', 'example.com')
  })

  it('publishes <name>.<domain> for each endpoint on one cloudflared, its token in the environment only', async () => {
    expect(await provider.unavailable()).toBeUndefined()
    expect(await provider.publish(endpoint('aaaa1111', 'app'))).toEqual({url: 'https://app.example.com', host: 'app.example.com'})
    expect(await provider.publish(endpoint('bbbb2222', 'api'))).toEqual({url: 'https://api.example.com', host: 'api.example.com'})

    const runs = fakeRuns()
    expect(runs).toHaveLength(1)
    const [run] = runs
    expect(run.args).toEqual(['tunnel', '--no-autoupdate', '--config', expect.any(String), '--metrics', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'run'])
    expect(run.tokenFrom).toBe('env')
    expect(run.tunnelEnv).toEqual(['TUNNEL_TOKEN'])
    expect(harness.spawned[0].command.join(' ')).not.toContain(TOKEN)

    const config = configFileOf(run)
    expect(config.startsWith(`${harness.runtimeDir}/`)).toBe(true)
    expect(readFileSync(config, 'utf8')).toContain(`ingress:\n  - service: http://127.0.0.1:${PROXY_PORT}\n`)
    expect(statSync(config).mode & 0o777).toBe(0o600)

    await provider.unpublish('aaaa1111')
    expect(isRunning(run.pid)).toBe(true)
    await provider.unpublish('bbbb2222')
    expect(isRunning(run.pid)).toBe(false)
    expect(harness.cleanup()).toEqual([])
  })

  it('refuses a name another endpoint already has', async () => {
    await provider.publish(endpoint('aaaa1111', 'app'))
    await expect(provider.publish(endpoint('bbbb2222', 'app'))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('app.example.com is already published by endpoint aaaa1111'),
    })
    expect(fakeRuns()).toHaveLength(1)
  })

  it('when the shared cloudflared crashes, every endpoint hears it go down and come back under the same hostname', async () => {
    fakeMode('crash-after-start')
    const app = endpoint('aaaa1111', 'app')
    const api = endpoint('bbbb2222', 'api')
    await provider.publish(app)
    await provider.publish(api)
    fakeMode('ok')

    await waitFor('both endpoints back up', () => [app, api].every((e) => e.states.some((state) => state.status === 'up')), 20_000)
    expect(harness.downs).toHaveLength(1)
    for (const [e, host] of [[app, 'app.example.com'], [api, 'api.example.com']] as const) {
      expect(e.states).toEqual([
        {status: 'restarting', restarts: 1, reason: 'exited with code 2'},
        {status: 'up', restarts: 1, publication: {url: `https://${host}`, host}},
      ])
    }

    expect(fakeRuns()).toHaveLength(2)
  })

  it('a token cloudflared rejects fails the publish with what to do, and leaves nothing running', async () => {
    await harness.settings.set('cloudflare.token', 'not-a-tunnel-token-at-all')
    const failure = provider.publish(endpoint('aaaa1111', 'app'))
    await expect(failure).rejects.toMatchObject({code: 'TUNNEL_FAILED', message: expect.stringContaining('cloudflared exited with code 255')})
    await expect(failure).rejects.toMatchObject({message: expect.stringContaining('tunnelctl config set cloudflare.token')})
    expect(harness.cleanup()).toEqual([])
  })

  it('close() stops the shared cloudflared and refuses new endpoints', async () => {
    await provider.publish(endpoint('aaaa1111', 'app'))
    await provider.close()
    expect(harness.spawned.filter((child) => isRunning(child.pid))).toEqual([])
    await expect(provider.publish(endpoint('bbbb2222', 'api'))).rejects.toMatchObject({code: 'SUPERVISOR_STOPPING'})
  })
})

describe('unavailable() says what to do', () => {
  it('names the setting that is missing when only one of token and domain is set', async () => {
    await harness.settings.set('cloudflare.token', TOKEN)
    expect(await provider.unavailable()).toContain('`tunnelctl config set cloudflare.domain example.com`')
    await expect(provider.publish(endpoint('aaaa1111'))).rejects.toMatchObject({code: 'PROVIDER_UNAVAILABLE'})

    await harness.settings.unset('cloudflare.token')
    await harness.settings.set('cloudflare.domain', 'example.com')
    expect(await provider.unavailable()).toContain('`tunnelctl config set cloudflare.token <token>`')
    expect(fakeRuns()).toEqual([])
  })

  it('says how to install cloudflared when it is not on PATH', async () => {
    process.env.PATH = '/nonexistent'
    expect(await provider.unavailable()).toContain('cloudflared was not found: not set as cloudflared.path, not on PATH, and not installed by tunnelctl')
  })
})
