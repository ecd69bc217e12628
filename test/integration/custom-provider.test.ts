import {readFileSync} from 'node:fs'
import {createServer, request, type Server} from 'node:http'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {createCustomProvider} from '../../src/providers/custom/custom-provider.js'
import type {Provider, PublicationState, PublishRequest} from '../../src/providers/provider.js'
import {ProviderHarness} from '../helpers/provider-harness.js'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {Sshd, sshdUnavailable} from '../helpers/sshd.js'

const NAME = 'myssh'
const ALLOCATED = 'Allocated port (\\d+) for remote forward'

let harness: ProviderHarness
let proxy: Server
let provider: Provider | undefined
let sshd: Sshd | undefined

beforeEach(async () => {
  harness = new ProviderHarness()
  // Stands in for the supervisor's reverse proxy: all a provider needs is its port.
  proxy = createServer((req, res) => res.end(`proxy got ${req.url} for ${req.headers.host}`))
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
})

// One hook, in this order: the provider's ssh clients go before the sshd they are connected to.
afterEach(async () => {
  try {
    await provider?.close()
  } finally {
    provider = undefined
    const left = harness.cleanup()
    await sshd?.stop()
    sshd = undefined
    proxy.closeAllConnections()
    proxy.close()
    expect(left, 'processes left behind').toEqual([])
  }
})

function proxyPort(): number {
  return (proxy.address() as {port: number}).port
}

async function configure(settings: {command?: string; match?: string; url?: string}): Promise<Provider> {
  for (const [part, value] of Object.entries(settings)) await harness.settings.set(`custom.${NAME}.${part}`, value)
  provider = createCustomProvider(harness.context(proxyPort()), NAME)
  return provider
}

function publishRequest(id: string, onState: (state: PublicationState) => void = () => {}): PublishRequest {
  return {id, name: id, mode: 'public', searchPath: undefined, onState}
}

/** A visitor's GET: to 127.0.0.1, since localhost may resolve to ::1, with the Host header of the URL. */
function get(url: string): Promise<string> {
  const {host, port, pathname} = new URL(url)
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port, path: pathname, headers: {host}, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}

async function expectRefused(url: string): Promise<void> {
  await vi.waitFor(async () => expect(await get(url).catch((error: NodeJS.ErrnoException) => error.code)).toBe('ECONNREFUSED'))
}

describe('custom provider', () => {
  it('unavailable() names the settings still missing and the command that sets them', async () => {
    const unconfigured = await configure({})
    expect(unconfigured.name).toBe(NAME)
    expect(unconfigured.modes).toEqual(['public'])
    const none = await unconfigured.unavailable()
    expect(none).toContain(`tunnelctl config set custom.${NAME}.command `)
    expect(none).toContain(`tunnelctl config set custom.${NAME}.match `)

    await harness.settings.set(`custom.${NAME}.command`, 'ssh -N -R 0:127.0.0.1:{port} host')
    const noMatch = await unconfigured.unavailable()
    expect(noMatch).toMatch(new RegExp(`^custom\\.${NAME}\\.match is not set; set it with \`tunnelctl config set custom\\.${NAME}\\.match `))
    expect(noMatch).not.toContain('.command')

    await harness.settings.set(`custom.${NAME}.match`, ALLOCATED)
    expect(await unconfigured.unavailable()).toBeUndefined()
  })

  it('publish refuses while unavailable and starts nothing', async () => {
    const unconfigured = await configure({command: 'echo {port}'})
    await expect(unconfigured.publish(publishRequest('e1'))).rejects.toMatchObject({code: 'PROVIDER_UNAVAILABLE'})
    expect(harness.spawned).toEqual([])
  })

  it('a command that exits before printing a match fails with its last lines and leaves nothing running', async () => {
    await configure({command: 'echo "forwarding port {port}"; echo "no route to tunnel.example.com" >&2; exit 3', match: ALLOCATED})
    const error = await provider?.publish(publishRequest('e1')).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'TUNNEL_FAILED'})
    const {message} = error as Error
    expect(message).toContain(`The ${NAME} command exited with code 3 before it printed a line matching /${ALLOCATED}/.`)
    expect(message).toContain(`  forwarding port ${proxyPort()}`)
    expect(message).toContain('  no route to tunnel.example.com')
    expect(harness.downs).toEqual([])
  })

  it('reads the URL from a CRLF-terminated line, as ssh prints them', async () => {
    await configure({
      command: "printf 'banner\\r\\nAllocated port 4242 for remote forward to 127.0.0.1:{port}\\r\\n' >&2; sleep 60",
      match: `^${ALLOCATED} to 127\\.0\\.0\\.1:\\d+$`,
      url: 'http://localhost:{1}',
    })
    expect(await provider?.publish(publishRequest('e1'))).toEqual({url: 'http://localhost:4242', host: 'localhost:4242'})
    await provider?.unpublish('e1')
    expect(harness.cleanup()).toEqual([])
  })

  it('a match the url template makes no http(s) URL of is a failure, and the command is stopped', async () => {
    await configure({command: "echo 'proxy on {port}'; echo 'tunnel at: not a host'; sleep 60", match: 'tunnel at: (.*)', url: 'https://{1}'})
    await expect(provider?.publish(publishRequest('e1'))).rejects.toMatchObject({
      code: 'TUNNEL_FAILED',
      message: expect.stringContaining(`custom.${NAME}.url makes "https://not a host" of it, which is not an http(s) URL`),
    })
  })
})

const noSshd = sshdUnavailable()
if (noSshd) console.warn(`Skipping the custom provider's ssh -R tests: ${noSshd}`)

describe.skipIf(noSshd !== undefined)('custom provider over a real ssh -R tunnel to a local sshd', () => {
  beforeEach(async () => {
    sshd = await Sshd.start()
  })

  function configureSsh(sshPort?: number): Promise<Provider> {
    return configure({command: sshd?.reverseTunnelCommand(sshPort), match: ALLOCATED, url: 'http://localhost:{1}'})
  }

  it('publishes the proxy at the port sshd allocated; unpublish takes it down and leaves nothing running', async () => {
    const custom = await configureSsh()
    const publication = await custom.publish(publishRequest('e1'))
    expect(publication.url).toMatch(/^http:\/\/localhost:\d+$/)
    expect(publication.host).toBe(new URL(publication.url).host)
    expect(await get(`${publication.url}/hello`)).toBe(`proxy got /hello for ${new URL(publication.url).host}`)

    await custom.unpublish('e1')
    expect(harness.cleanup()).toEqual([])
    await expectRefused(publication.url)
  })

  it('runs one ssh per endpoint: unpublish stops only its own, close stops the rest', async () => {
    const custom = await configureSsh()
    const [a, b] = await Promise.all([custom.publish(publishRequest('a')), custom.publish(publishRequest('b'))])
    expect(a.url).not.toBe(b.url)
    expect(harness.spawned).toHaveLength(2)

    await custom.unpublish('a')
    await expectRefused(a.url)
    expect(await get(b.url)).toMatch(/^proxy got \//)

    await custom.close()
    await expectRefused(b.url)
  })

  it("an ssh that cannot connect fails with ssh's own words and leaves nothing running", async () => {
    await configureSsh(await findFreeLoopbackPort())
    await expect(provider?.publish(publishRequest('e1'))).rejects.toMatchObject({
      code: 'TUNNEL_FAILED',
      message: expect.stringMatching(/exited with code 255 before it printed[^]*Connection refused/),
    })
  })

  it('a killed ssh is restarted a second later and serves again, at the port sshd allocates then', async () => {
    const states: PublicationState[] = []
    let cameBack = (_: PublicationState): void => {}
    const up = new Promise<PublicationState>((resolve) => (cameBack = resolve))
    const custom = await configureSsh()
    await custom.publish(
      publishRequest('e1', (state) => {
        states.push(state)
        if (state.status === 'up') cameBack(state)
      }),
    )
    killSsh(harness.spawned[0].pid)
    const killedAt = Date.now()
    const state = await up

    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1000)
    expect(harness.downs).toHaveLength(1)
    expect(harness.downs[0]).toMatchObject({restarts: 1, delayMs: 1000, reason: expect.stringMatching(/^exited with /)})
    expect(states).toEqual([
      {status: 'restarting', restarts: 1, reason: harness.downs[0].reason},
      {status: 'up', restarts: 1, publication: {url: expect.stringMatching(/^http:\/\/localhost:\d+$/), host: expect.stringMatching(/^localhost:\d+$/)}},
    ])
    expect(harness.spawned).toHaveLength(2)
    if (state.status === 'up') expect(await get(state.publication.url)).toMatch(/^proxy got \//)
  })
})

/** SIGKILL to the ssh under /bin/sh: the crash a provider must survive. A shell that execs it is ssh itself. */
function killSsh(shellPid: number): void {
  const children = readFileSync(`/proc/${shellPid}/task/${shellPid}/children`, 'utf8').trim().split(' ').filter(Boolean)
  process.kill(children.length > 0 ? Number(children[0]) : shellPid, 'SIGKILL')
}
