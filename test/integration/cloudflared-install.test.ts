import {createHash} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DEFAULT_CLOUDFLARED_TAG} from '../../src/install/cloudflared-release.js'
import {findOnPath} from '../../src/providers/find-executable.js'
import {TestHome, waitFor} from '../helpers/cli.js'
import {unusedPort} from '../helpers/ports.js'
import {ConnectProxy, FAKE_CLOUDFLARED, FAKE_CLOUDFLARED_TAG, ReleaseServer, testCertificate} from '../helpers/release-server.js'

/** node, and the system's programs (tar), but no cloudflared: the fixtures' is not on it. */
const PATH_WITHOUT_CLOUDFLARED = [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter)
const URL_LINE = /Forwarding (https:\/\/[a-z]+(-[a-z]+){3}\.trycloudflare\.com) -> http:\/\/localhost:\d+/
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']
const HINTS = ['`tunnelctl cloudflared install`', '--install-cloudflared', 'TUNNELCTL_INSTALL_CLOUDFLARED=1']

let t: TestHome
let server: ReleaseServer
let bin: string
beforeEach(async () => {
  server = await ReleaseServer.start()
  t = new TestHome({PATH: PATH_WITHOUT_CLOUDFLARED, TUNNELCTL_GITHUB_API: server.url})
  for (const name of PROXY_VARIABLES) delete t.env[name]
  bin = join(t.home, 'bin')
  expect(await findOnPath('cloudflared', PATH_WITHOUT_CLOUDFLARED), 'a cloudflared on the PATH these tests use').toBeUndefined()
})
afterEach(async () => {
  try {
    expect(await t.cleanup(), 'processes left behind').toEqual([])
  } finally {
    await server.close()
  }
})

/** What <home>/bin holds: a failed install must leave no temporary file or lock there. */
const binEntries = (): string[] => (existsSync(bin) ? readdirSync(bin).sort() : [])

const installed = (): Buffer => readFileSync(join(bin, 'cloudflared'))

describe('tunnelctl cloudflared install', () => {
  it('downloads through the redirect, verifies, installs 0755 in <home>/bin, then says it is already there', async () => {
    const install = await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])
    expect(install).toMatchObject({exitCode: 0, stdout: `Installed cloudflared ${FAKE_CLOUDFLARED_TAG} at ${join(bin, 'cloudflared')}, sha256 verified.`})
    expect(install.stderr).toBe(`Downloaded cloudflared-linux-${archName()} (${(FAKE_CLOUDFLARED.length / 1000).toFixed(1)} kB), sha256 verified.`)
    expect(server.requests).toEqual([
      `/repos/cloudflare/cloudflared/releases/tags/${FAKE_CLOUDFLARED_TAG}`,
      `/download/${FAKE_CLOUDFLARED_TAG}/cloudflared-linux-${archName()}`,
      expect.stringMatching(new RegExp(`^/objects/[0-9a-f]+/cloudflared-linux-${archName()}$`)),
    ])
    expect(installed().equals(FAKE_CLOUDFLARED), 'the installed file is the released one').toBe(true)
    expect(statSync(join(bin, 'cloudflared')).mode & 0o777).toBe(0o755)
    expect(statSync(bin).mode & 0o022, 'bin writable by group or others').toBe(0)
    expect(binEntries()).toEqual(['cloudflared'])

    const again = await t.json(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])
    expect(again.body).toEqual({tag: FAKE_CLOUDFLARED_TAG, file: join(bin, 'cloudflared'), version: FAKE_CLOUDFLARED_TAG, alreadyInstalled: true, warnings: []})
    expect(server.requests, 'a second install of that tag asks GitHub nothing').toHaveLength(3)
    expect((await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])).stdout).toBe(
      `cloudflared ${FAKE_CLOUDFLARED_TAG} is already installed at ${join(bin, 'cloudflared')}.`,
    )
  })

  it('then `tunnel start` runs the installed copy and prints a URL, and doctor says which cloudflared it is', async () => {
    expect((await t.run(['cloudflared', 'install', '--version', 'latest'])).exitCode).toBe(0)
    expect(server.requests[0]).toBe('/repos/cloudflare/cloudflared/releases/latest')
    const port = await unusedPort()
    const start = await t.run(['tunnel', 'start', String(port)])
    expect(start.exitCode, start.stderr).toBe(0)
    expect(start.stdout).toMatch(URL_LINE)
    const runner = t.processes().find(({cmdline}) => cmdline.includes(' tunnel --no-autoupdate'))
    expect(runner?.cmdline, 'the supervisor ran the installed cloudflared').toContain(join(bin, 'cloudflared'))

    const doctor = await t.json(['doctor'])
    expect(doctor.body.checks[0]).toEqual({
      id: 'cloudflared',
      status: 'ok',
      summary: `${FAKE_CLOUDFLARED_TAG} (${join(bin, 'cloudflared')}, installed by tunnelctl cloudflared install)`,
    })
  })

  it('takes a <home>/bin that others may write to away from them before it puts anything there', async () => {
    mkdirSync(bin)
    chmodSync(bin, 0o777)
    expect((await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])).exitCode).toBe(0)
    expect(statSync(bin).mode & 0o777).toBe(0o755)
  })

  it('refuses a file whose sha256 is not the release digest: exit 1, nothing installed, no temporary file left', async () => {
    server.behaviour = 'tampered'
    const install = await t.run(['cloudflared', 'install', '--yes'])
    expect(install.exitCode).toBe(1)
    expect(install.stderr).toMatch(/^Error: The download of http:\/\/127\.0\.0\.1:\d+\/download\/\S+ failed: its sha256 is [0-9a-f]{64}, but GitHub's digest for the release asset is [0-9a-f]{64}: the file is not the one that was released\. Nothing was installed\.$/)
    expect(binEntries()).toEqual([])
  })

  it('refuses a release whose asset has no digest, before downloading anything', async () => {
    server.behaviour = 'no-digest'
    const install = await t.run(['cloudflared', 'install'])
    expect(install.exitCode).toBe(1)
    expect(install.stderr).toContain(`GitHub gives no digest for cloudflared-linux-${archName()} of cloudflared ${DEFAULT_CLOUDFLARED_TAG}, so the download could not be verified; nothing was downloaded.`)
    expect(server.downloads).toEqual([])
    expect(binEntries()).toEqual([])
  })

  it('never saves a 404 page as the program', async () => {
    server.behaviour = 'missing'
    const install = await t.run(['cloudflared', 'install'])
    expect(install.exitCode).toBe(1)
    expect(install.stderr).toMatch(/failed: the server answered 404 Not Found\. Nothing was installed\.$/)
    expect(binEntries()).toEqual([])
  })

  it('refuses a download cut off before its Content-Length', async () => {
    server.behaviour = 'truncated'
    const install = await t.run(['cloudflared', 'install'])
    expect(install.exitCode).toBe(1)
    expect(install.stderr).toMatch(/failed: it was cut off/)
    expect(install.stderr).toMatch(/Nothing was installed\.$/)
    expect(binEntries()).toEqual([])
  })

  it('gives up on a server that stops sending for TUNNELCTL_DOWNLOAD_TIMEOUT seconds', async () => {
    server.behaviour = 'stalled'
    const install = await t.run(['cloudflared', 'install'], {TUNNELCTL_DOWNLOAD_TIMEOUT: '1'})
    expect(install.exitCode).toBe(1)
    expect(install.stderr).toMatch(/it was cut off after 1024 of \d+ bytes: the server sent nothing for 1 s \(set TUNNELCTL_DOWNLOAD_TIMEOUT for a slow link\)\. Nothing was installed\.$/)
    expect(binEntries()).toEqual([])
  })

  it('an install killed mid-download leaves a work directory that the next install removes', async () => {
    server.behaviour = 'stalled'
    const killed = t.spawn(['cloudflared', 'install'])
    await waitFor('the download to begin in a work directory', () => binEntries().some((name) => name.startsWith('.install-')), 20_000)
    killed.kill('SIGKILL')
    await killed.catch(() => undefined)
    expect(binEntries().filter((name) => name.startsWith('.install-'))).toHaveLength(1)

    server.behaviour = 'good'
    const install = await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])
    expect(install.exitCode, install.stderr).toBe(0)
    expect(binEntries()).toEqual(['cloudflared'])
  })

  it('two installs at once both succeed, with one download and a whole file', async () => {
    server.holdDownloadsUntilLookups = 2
    const both = await Promise.all([1, 2].map(() => t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG])))
    expect(both.map((result) => result.exitCode)).toEqual([0, 0])
    expect(both.map((result) => result.stdout).sort()).toEqual([
      `Installed cloudflared ${FAKE_CLOUDFLARED_TAG} at ${join(bin, 'cloudflared')}, sha256 verified.`,
      `cloudflared ${FAKE_CLOUDFLARED_TAG} is already installed at ${join(bin, 'cloudflared')}.`,
    ])
    expect(server.downloads).toHaveLength(1)
    expect(sha256(installed())).toBe(sha256(FAKE_CLOUDFLARED))
    expect(binEntries()).toEqual(['cloudflared'])
  })

  it('goes through HTTP_PROXY, and around it for a host in NO_PROXY', async () => {
    const proxy = await ConnectProxy.start()
    try {
      const through = await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG], {HTTP_PROXY: proxy.url})
      expect(through.exitCode, through.stderr).toBe(0)
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(server.url).host]))
      const tunnelled = proxy.tunnels.length

      const around = await t.run(['cloudflared', 'install', '--version', 'latest'], {HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1'})
      expect(around.exitCode, around.stderr).toBe(0)
      expect(proxy.tunnels).toHaveLength(tunnelled)
    } finally {
      await proxy.close()
    }
  })

  it('reaches an https release server through HTTPS_PROXY', async () => {
    const [proxy, secure] = await Promise.all([ConnectProxy.start(), ReleaseServer.start(FAKE_CLOUDFLARED_TAG, testCertificate(t.home))])
    try {
      const env = {TUNNELCTL_GITHUB_API: secure.url, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: join(t.home, 'cert.pem')}
      const install = await t.run(['cloudflared', 'install', '--version', FAKE_CLOUDFLARED_TAG], env)
      expect(install.exitCode, install.stderr).toBe(0)
      expect(secure.downloads).toHaveLength(1)
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(secure.url).host]))
      expect(installed().equals(FAKE_CLOUDFLARED)).toBe(true)
    } finally {
      await Promise.all([proxy.close(), secure.close()])
    }
  })

  it('rejects a --version that is not a tag: exit 2, nothing asked of GitHub', async () => {
    const install = await t.run(['cloudflared', 'install', '--version', '../../evil'])
    expect(install).toMatchObject({exitCode: 2, stderr: `Error: --version must be a cloudflared release tag such as ${DEFAULT_CLOUDFLARED_TAG}, or latest, not "../../evil".`})
    expect(server.requests).toEqual([])
  })
})

describe('a start that finds no cloudflared', () => {
  it('without a terminal downloads nothing, exits 1 and says the three ways to consent', async () => {
    const start = await t.run(['tunnel', 'start', String(await unusedPort())])
    expect(start.exitCode).toBe(1)
    for (const hint of HINTS) expect(start.stderr).toContain(hint)
    const expose = await t.run(['expose', 'start', '3000', '--provider', 'cloudflare'])
    expect(expose.exitCode).toBe(1)
    for (const hint of HINTS) expect(expose.stderr).toContain(hint)
    const run = await t.run(['tunnel', 'run', String(await unusedPort()), '--', 'sh', '-c', 'echo ran'])
    expect(run.exitCode).toBe(1)
    for (const hint of HINTS) expect(run.stderr).toContain(hint)
    expect(run.stdout, 'the command never ran').not.toContain('ran')
    expect(server.requests).toEqual([])
    expect(binEntries()).toEqual([])
    expect(t.supervisorPid(), 'no supervisor was asked').toBeUndefined()
  })

  it('--install-cloudflared installs the pinned release and the tunnel starts', async () => {
    const start = await t.run(['tunnel', 'start', String(await unusedPort()), '--install-cloudflared'])
    expect(start.exitCode, start.stderr).toBe(0)
    expect(start.stdout).toMatch(URL_LINE)
    expect(start.stderr).toContain(`Installed cloudflared ${FAKE_CLOUDFLARED_TAG} at ${join(bin, 'cloudflared')}, sha256 verified.`)
    expect(server.requests[0]).toBe(`/repos/cloudflare/cloudflared/releases/tags/${DEFAULT_CLOUDFLARED_TAG}`)
    expect(installed().equals(FAKE_CLOUDFLARED)).toBe(true)
  })

  it('TUNNELCTL_INSTALL_CLOUDFLARED=1 consents for tunnel run, which then runs its command with the URL', async () => {
    const run = await t.run(['tunnel', 'run', String(await unusedPort()), '--', 'sh', '-c', 'echo "url=$TUNNEL_URL"'], {TUNNELCTL_INSTALL_CLOUDFLARED: '1'})
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^url=https:\/\/[a-z-]+\.trycloudflare\.com$/m)
    expect(installed().equals(FAKE_CLOUDFLARED)).toBe(true)
  })

  it('TUNNELCTL_INSTALL_CLOUDFLARED=1 consents for expose start --provider cloudflare', async () => {
    const start = await t.run(['expose', 'start', String(await unusedPort()), '--provider', 'cloudflare'], {TUNNELCTL_INSTALL_CLOUDFLARED: '1'})
    expect(start.exitCode, start.stderr).toBe(0)
    expect(start.stdout).toMatch(/^Endpoint \S+ is up: https:\/\/[a-z-]+\.trycloudflare\.com -> localhost:\d+ \(cloudflare\)$/m)
    expect(installed().equals(FAKE_CLOUDFLARED)).toBe(true)
  })

  it('TUNNELCTL_INSTALL_CLOUDFLARED must be 1 or 0: anything else is bad input', async () => {
    const start = await t.run(['tunnel', 'start', '3000'], {TUNNELCTL_INSTALL_CLOUDFLARED: 'yes'})
    expect(start).toMatchObject({exitCode: 2, stderr: 'Error: TUNNELCTL_INSTALL_CLOUDFLARED must be 1 (download cloudflared when it is missing) or 0, not "yes".'})
    expect(server.requests).toEqual([])
  })

  it('on a terminal asks first, and y installs it with a progress bar and starts the tunnel', async () => {
    const start = await t.runOnTerminal(['tunnel', 'start', String(await unusedPort())], t.env, undefined, 'y\n')
    expect(start.exitCode, start.stdout).toBe(0)
    const size = `${(FAKE_CLOUDFLARED.length / 1000).toFixed(1)} kB`
    expect(start.stdout).toContain(`Download cloudflared ${DEFAULT_CLOUDFLARED_TAG} (${size}) from GitHub into ${bin}? [Y/n]`)
    expect(start.stdout).toContain(`cloudflared-linux-${archName()} [${'#'.repeat(30)}] 100% ${size}/${size}`)
    expect(start.stdout).toMatch(URL_LINE)
    expect(installed().equals(FAKE_CLOUDFLARED)).toBe(true)
  })

  it('on a terminal, n downloads nothing and exits 1 with the ways to install', async () => {
    const start = await t.runOnTerminal(['tunnel', 'start', String(await unusedPort())], t.env, undefined, 'n\n')
    expect(start.exitCode).toBe(1)
    expect(start.stdout).toContain('[Y/n]')
    expect(start.stdout).toContain('nothing was downloaded: you said no.')
    for (const hint of HINTS) expect(start.stdout).toContain(hint)
    expect(server.downloads).toEqual([])
    expect(binEntries()).toEqual([])
  })
})

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function archName(): string {
  return {x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386'}[process.arch as string] ?? process.arch
}
