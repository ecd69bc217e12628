import {accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Provider, PublishRequest} from '../../src/providers/provider.js'
import type {ExposeMode} from '../../src/protocol/endpoints.js'
import {createTailscaleProvider} from '../../src/providers/tailscale/tailscale-provider.js'
import {FIXTURE_BIN} from '../helpers/cli.js'
import {ProviderHarness} from '../helpers/provider-harness.js'

const realPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && dir !== FIXTURE_BIN)
const realTailscale = realPath.map((dir) => join(dir, 'tailscale')).find(isExecutable)
// vitest runs each file in a process of its own: the fake is first on PATH for this whole file.
process.env.PATH = [FIXTURE_BIN, ...realPath].join(delimiter)
// The provider prefers the macOS app's CLI to PATH's, and must never be pointed at a real node here.
const macAppShadowsFake = process.platform === 'darwin' && existsSync('/Applications/Tailscale.app/Contents/MacOS/Tailscale')

const DOMAIN = 'devbox.tail4e7f2a.ts.net'
const PROXY_PORT = 18_080
const TARGET = `http://127.0.0.1:${PROXY_PORT}`
/** Something of the user's on another port, funnelled: it must come through every test untouched. */
const USERS_OWN = {
  TCP: {8443: {HTTPS: true}},
  Web: {[`${DOMAIN}:8443`]: {Handlers: {'/': {Proxy: 'http://127.0.0.1:3000'}}}},
  AllowFunnel: {[`${DOMAIN}:8443`]: true},
}

describe.skipIf(macAppShadowsFake)('the tailscale provider, against a fake tailscale', () => {
  let h: ProviderHarness
  let stateDir: string
  let provider: Provider

  beforeEach(() => {
    h = new ProviderHarness()
    stateDir = mkdtempSync(join(tmpdir(), 'tts-'))
    process.env.FAKE_TAILSCALE_STATE = stateDir
    provider = createTailscaleProvider(h.context(PROXY_PORT))
  })
  afterEach(async () => {
    await provider.close()
    expect(h.cleanup(), 'processes left behind').toEqual([])
    rmSync(stateDir, {recursive: true, force: true})
  })

  const setNode = (node: Record<string, unknown>) => writeFileSync(join(stateDir, 'state.json'), JSON.stringify(node))
  const node = (): Record<string, unknown> => {
    const file = join(stateDir, 'state.json')
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
  }

  const serveConfig = () => node().serve ?? null
  const calls = (): string[][] => {
    const file = join(stateDir, 'calls.log')
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : []
  }
  /** The runs that change the serve config, not those that read it. */
  const changes = () => calls().filter((args) => !args.includes('status'))
  const request = (id: string, mode: ExposeMode = 'private'): PublishRequest => ({id, name: id, mode, searchPath: undefined, onState() {}})
  const servedAt = (target: string, funnel: boolean) => ({
    TCP: {443: {HTTPS: true}},
    Web: {[`${DOMAIN}:443`]: {Handlers: {'/': {Proxy: target}}}},
    ...(funnel ? {AllowFunnel: {[`${DOMAIN}:443`]: true}} : {}),
  })

  it('offers private (tailscale serve) first, then public (tailscale funnel)', () => {
    expect(provider.name).toBe('tailscale')
    expect(provider.modes).toEqual(['private', 'public'])
  })

  it('private mode runs `tailscale serve --bg` at the proxy and gives the node DNS name without its trailing dot', async () => {
    expect(await provider.unavailable()).toBeUndefined()
    expect(await provider.publish(request('ep1'))).toEqual({url: `https://${DOMAIN}`, host: DOMAIN})
    expect(changes()).toEqual([['serve', '--bg', '--yes', '--https=443', TARGET]])
    expect(serveConfig()).toEqual(servedAt(TARGET, false))
  })

  it('public mode runs `tailscale funnel --bg` at the proxy', async () => {
    expect(await provider.publish(request('ep1', 'public'))).toEqual({url: `https://${DOMAIN}`, host: DOMAIN})
    expect(changes()).toEqual([['funnel', '--bg', '--yes', '--https=443', TARGET]])
    expect(serveConfig()).toEqual(servedAt(TARGET, true))
  })

  it('serves one endpoint per node: a second publish is a conflict that names the first', async () => {
    await provider.publish(request('ep1'))
    await expect(provider.publish(request('ep2', 'public'))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('tunnelctl expose stop ep1'),
    })
    expect(changes()).toHaveLength(1)
    expect(serveConfig()).toEqual(servedAt(TARGET, false))

    await provider.unpublish('ep1')
    expect((await provider.publish(request('ep2', 'public'))).url).toBe(`https://${DOMAIN}`)
  })

  it('unpublish turns off what publish added and leaves the rest of the serve config exactly as found', async () => {
    setNode({serve: USERS_OWN})
    await provider.publish(request('ep1', 'public'))
    expect(serveConfig()).toEqual({
      TCP: {...USERS_OWN.TCP, 443: {HTTPS: true}},
      Web: {...USERS_OWN.Web, [`${DOMAIN}:443`]: {Handlers: {'/': {Proxy: TARGET}}}},
      AllowFunnel: {...USERS_OWN.AllowFunnel, [`${DOMAIN}:443`]: true},
    })

    await provider.unpublish('ep1')
    expect(changes().at(-1)).toEqual(['serve', '--https=443', 'off'])
    expect(serveConfig()).toEqual(USERS_OWN)
    expect(existsSync(join(h.runtimeDir, 'tailscale-serve.json'))).toBe(false)
  })

  it('close takes the publication down too, and leaves the rest', async () => {
    setNode({serve: USERS_OWN})
    await provider.publish(request('ep1'))
    await provider.close()
    expect(serveConfig()).toEqual(USERS_OWN)
  })

  it('unpublish and close do nothing when nothing (or another endpoint) is published', async () => {
    await provider.unpublish('ep1')
    await provider.close()
    expect(changes()).toEqual([])

    await provider.publish(request('ep1'))
    await provider.unpublish('ep2')
    expect(serveConfig()).toEqual(servedAt(TARGET, false))
  })

  it('refuses when port 443 already serves something else, and changes nothing', async () => {
    const theirs = {TCP: {443: {HTTPS: true}}, Web: {[`${DOMAIN}:443`]: {Handlers: {'/': {Proxy: 'http://127.0.0.1:5173'}}}}}
    setNode({serve: theirs})
    const refused = provider.publish(request('ep1'))
    await expect(refused).rejects.toMatchObject({code: 'CONFLICT', message: expect.stringContaining('`tailscale serve --https=443 off`')})
    await expect(refused).rejects.toThrow('http://127.0.0.1:5173')
    expect(changes()).toEqual([])
    expect(serveConfig()).toEqual(theirs)
  })

  it('leaves port 443 alone at unpublish when someone has put something else there since', async () => {
    await provider.publish(request('ep1'))
    const theirs = servedAt('http://127.0.0.1:5173', false)
    setNode({serve: theirs})
    await provider.unpublish('ep1')
    expect(changes()).toHaveLength(1)
    expect(serveConfig()).toEqual(theirs)
  })

  it('takes over what a supervisor that was killed left behind, and only its own', async () => {
    await provider.publish(request('ep1', 'public'))
    // Killed: no close(). Its successor has a proxy on another port.
    provider = createTailscaleProvider(h.context(PROXY_PORT + 1))
    await provider.publish(request('ep1'))
    expect(serveConfig()).toEqual(servedAt(`http://127.0.0.1:${PROXY_PORT + 1}`, false))

    const stranger = new ProviderHarness()
    try {
      await expect(createTailscaleProvider(stranger.context(PROXY_PORT + 2)).publish(request('ep9'))).rejects.toMatchObject({code: 'CONFLICT'})
    } finally {
      stranger.cleanup()
    }
  })

  it('says to run `tailscale up` when the node is logged out, and publishes nothing', async () => {
    setNode({backendState: 'NeedsLogin'})
    expect(await provider.unavailable()).toMatch(/logged out.*`tailscale up`/)
    await expect(provider.publish(request('ep1'))).rejects.toMatchObject({code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('tailscale up')})
    expect(changes()).toEqual([])
  })

  it('quotes the first line tailscale printed when its daemon is not reachable', async () => {
    setNode({daemonDown: true, versionMismatch: true})
    expect(await provider.unavailable()).toContain(
      `"failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)"`,
    )
  })

  it('reads status from stdout alone: a client/daemon version mismatch warning on stderr changes nothing', async () => {
    setNode({versionMismatch: true, serve: USERS_OWN})
    expect(await provider.unavailable()).toBeUndefined()
    expect(await provider.publish(request('ep1'))).toEqual({url: `https://${DOMAIN}`, host: DOMAIN})
    await provider.unpublish('ep1')
    expect(serveConfig()).toEqual(USERS_OWN)
  })

  it('retries while another client is changing the serve config', async () => {
    setNode({busy: 2})
    await provider.publish(request('ep1'))
    expect(changes()).toEqual(Array.from({length: 3}, () => ['serve', '--bg', '--yes', '--https=443', TARGET]))
    expect(serveConfig()).toEqual(servedAt(TARGET, false))

    setNode({...node(), busy: 1})
    await provider.unpublish('ep1')
    expect(serveConfig()).toBeNull()
  })

  it('fails with where to enable Funnel when the tailnet has not, leaving nothing behind', async () => {
    setNode({funnelEnabled: false})
    await expect(provider.publish(request('ep1', 'public'))).rejects.toMatchObject({
      code: 'TUNNEL_FAILED',
      message: expect.stringContaining('https://login.tailscale.com/f/funnel?node='),
    })
    expect(serveConfig()).toBeNull()
    expect(existsSync(join(h.runtimeDir, 'tailscale-serve.json'))).toBe(false)

    expect((await provider.publish(request('ep1'))).host).toBe(DOMAIN)
  })

  it('says how to install tailscale when it is not on PATH', async () => {
    const path = process.env.PATH
    process.env.PATH = h.runtimeDir
    try {
      expect(await provider.unavailable()).toContain('https://tailscale.com/download')
      await expect(provider.publish(request('ep1'))).rejects.toMatchObject({code: 'PROVIDER_UNAVAILABLE'})
    } finally {
      process.env.PATH = path
    }
  })
})

// Reads the node's status and nothing else: a real node's serve config is never touched.
it.skipIf(!realTailscale)('with a real tailscale on PATH, unavailable() answers without throwing', async () => {
  const h = new ProviderHarness()
  const path = process.env.PATH
  process.env.PATH = realPath.join(delimiter)
  try {
    const answer = await createTailscaleProvider(h.context(PROXY_PORT)).unavailable()
    expect(answer === undefined || typeof answer === 'string').toBe(true)
  } finally {
    process.env.PATH = path
    h.cleanup()
  }
})

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
