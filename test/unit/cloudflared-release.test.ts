import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {assetNameFor, findCloudflaredRelease, parseCloudflaredTag, parseRelease} from '../../src/install/cloudflared-release.js'
import {httpOptions} from '../../src/install/http.js'
import {installCloudflared} from '../../src/install/install-cloudflared.js'
import {resolvePaths} from '../../src/paths.js'
import {FAKE_CLOUDFLARED, FAKE_CLOUDFLARED_TAG, ReleaseServer} from '../helpers/release-server.js'

const URL = 'https://api.github.com/repos/cloudflare/cloudflared/releases/tags/2026.10.0'
const DIGEST = `sha256:${'ab'.repeat(32)}`
const asset = (fields: Record<string, unknown>) => ({name: 'cloudflared-linux-amd64', size: 40_000_000, browser_download_url: 'https://github.com/x', digest: DIGEST, ...fields})
const release = (assets: unknown[]) => ({tag_name: '2026.10.0', assets})

describe('which asset is this platform\'s', () => {
  it.each([
    ['linux', 'x64', 'cloudflared-linux-amd64'],
    ['linux', 'arm64', 'cloudflared-linux-arm64'],
    ['linux', 'arm', 'cloudflared-linux-arm'],
    ['linux', 'ia32', 'cloudflared-linux-386'],
    ['darwin', 'x64', 'cloudflared-darwin-amd64.tgz'],
    ['darwin', 'arm64', 'cloudflared-darwin-arm64.tgz'],
    ['win32', 'x64', 'cloudflared-windows-amd64.exe'],
    ['win32', 'ia32', 'cloudflared-windows-386.exe'],
  ])('%s %s: %s', (platform, arch, name) => {
    expect(assetNameFor(platform, arch)).toBe(name)
  })

  it('a platform cloudflared is not built for says so', () => {
    expect(() => assetNameFor('freebsd', 'x64')).toThrow("cloudflared's releases have no build for freebsd x64")
  })
})

describe('the release JSON, read field by field', () => {
  it('takes the tag and the asset\'s name, size, URL and sha256', () => {
    expect(parseRelease(release([asset({name: 'other'}), asset({})]), 'cloudflared-linux-amd64', URL)).toEqual({
      tag: '2026.10.0',
      asset: {name: 'cloudflared-linux-amd64', size: 40_000_000, url: 'https://github.com/x', sha256: 'ab'.repeat(32), archive: false},
    })
  })

  it.each([
    ['a digest of null', [asset({digest: null})], 'GitHub gives no digest for cloudflared-linux-amd64 of cloudflared 2026.10.0'],
    ['no digest at all', [asset({digest: undefined})], 'GitHub gives no digest'],
    ['a digest that is not sha256', [asset({digest: `md5:${'ab'.repeat(16)}`})], 'not sha256:<64 hex digits>'],
    ['a size that is not a count of bytes', [asset({size: '40MB'})], 'the size of cloudflared-linux-amd64 is "40MB"'],
    ['a download URL that is not http(s)', [asset({browser_download_url: 'file:///etc/passwd'})], 'the browser_download_url of cloudflared-linux-amd64 is "file:///etc/passwd"'],
    ['no asset for the platform', [asset({name: 'cloudflared-linux-amd64.deb'})], 'cloudflared 2026.10.0 has no cloudflared-linux-amd64 among its release\'s assets'],
  ])('refuses %s', (_what, assets, message) => {
    expect(() => parseRelease(release(assets), 'cloudflared-linux-amd64', URL)).toThrow(message)
  })

  it('refuses what is not a release', () => {
    expect(() => parseRelease([], 'cloudflared-linux-amd64', URL)).toThrow('it is not a JSON object')
    expect(() => parseRelease({tag_name: 'v1; rm -rf', assets: []}, 'cloudflared-linux-amd64', URL)).toThrow('its tag_name is "v1; rm -rf", not a cloudflared tag')
    expect(() => parseRelease({tag_name: '2026.10.0'}, 'cloudflared-linux-amd64', URL)).toThrow('it has no assets list')
  })

  it('--version takes a tag or latest, nothing that could change the API path', () => {
    expect(parseCloudflaredTag('2026.10.0')).toBe('2026.10.0')
    expect(parseCloudflaredTag('latest')).toBe('latest')
    for (const bad of ['v2026.10.0', '../latest', '2026.10.0/../../x', '']) expect(() => parseCloudflaredTag(bad)).toThrow('--version must be a cloudflared release tag')
  })
})

describe('installing the macOS tarball', () => {
  let server: ReleaseServer
  let home: string
  beforeEach(async () => {
    server = await ReleaseServer.start()
    home = mkdtempSync(join(tmpdir(), 'tc-tgz-home-'))
  })
  afterEach(async () => {
    await server.close()
    rmSync(home, {recursive: true, force: true})
  })

  it('takes the cloudflared out of the verified .tgz and installs it 0755', async () => {
    const http = await httpOptions({})
    try {
      const found = await findCloudflaredRelease(FAKE_CLOUDFLARED_TAG, {...http, apiBase: server.url, platform: 'darwin', arch: 'arm64'})
      expect(found.asset).toMatchObject({name: 'cloudflared-darwin-arm64.tgz', archive: true})
      const paths = resolvePaths({TUNNELCTL_HOME: home})
      const result = await installCloudflared(paths, found, http)
      expect(result).toEqual({tag: FAKE_CLOUDFLARED_TAG, file: paths.installedCloudflared, version: FAKE_CLOUDFLARED_TAG, alreadyInstalled: false})
      expect(readFileSync(paths.installedCloudflared).equals(FAKE_CLOUDFLARED)).toBe(true)
      expect(statSync(paths.installedCloudflared).mode & 0o777).toBe(0o755)
      expect(readdirSync(paths.binDir)).toEqual(['cloudflared'])
    } finally {
      await http.dispatcher.close()
    }
  })
})
