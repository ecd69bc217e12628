/**
 * cloudflared's releases, as GitHub's release API describes them: which tag, which asset for this
 * platform, how big, and the sha256 GitHub computed when it was uploaded.
 */
import {badInput, TunnelctlError} from '../errors.js'
import {fetchOrExplain, type HttpOptions} from './http.js'

/**
 * The cloudflared `tunnelctl cloudflared install` and the on-demand install put in place. Pinned, so
 * that what is installed does not change under a user between two runs; bumped deliberately, in a
 * commit that says so, after the new release has been tried with tunnelctl.
 */
export const DEFAULT_CLOUDFLARED_TAG = '2026.10.0'

export const DEFAULT_GITHUB_API = 'https://api.github.com'

const RELEASES = '/repos/cloudflare/cloudflared/releases'
// cloudflared's tags are calendar versions: 2026.10.0.
const TAG = /^\d{4}\.\d{1,2}\.\d{1,3}$/
const DIGEST = /^sha256:([0-9a-f]{64})$/
// A release page lists some 30 assets; anything near this is not GitHub's answer.
const MAX_RELEASE_JSON_BYTES = 4 * 1024 * 1024

/** The one file of a release that is cloudflared for this platform. */
export interface CloudflaredAsset {
  name: string
  /** Bytes, as the release says. */
  size: number
  url: string
  /** Hex. */
  sha256: string
  /** A .tgz with `cloudflared` inside (macOS), rather than the program itself. */
  archive: boolean
}

export interface CloudflaredRelease {
  tag: string
  asset: CloudflaredAsset
}

/** A tag as given to --version: `latest` or a release's tag. */
export function parseCloudflaredTag(raw: string): string {
  if (raw === 'latest' || TAG.test(raw)) return raw
  throw badInput(`--version must be a cloudflared release tag such as ${DEFAULT_CLOUDFLARED_TAG}, or latest, not "${raw}".`)
}

const ARCHES: Record<string, Record<string, string>> = {
  linux: {x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386'},
  darwin: {x64: 'amd64', arm64: 'arm64'},
  win32: {x64: 'amd64', ia32: '386'},
}

/** The asset's name in cloudflared's releases: cloudflared-linux-amd64, cloudflared-darwin-arm64.tgz, cloudflared-windows-amd64.exe. */
export function assetNameFor(platform: string, arch: string): string {
  const cpu = ARCHES[platform]?.[arch]
  if (!cpu) {
    throw new TunnelctlError(
      'CLOUDFLARED_NOT_FOUND',
      `cloudflared's releases have no build for ${platform} ${arch}. Install cloudflared yourself (https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/) and put it on PATH, or point \`tunnelctl config set cloudflared.path <file>\` at it.`,
    )
  }

  if (platform === 'darwin') return `cloudflared-darwin-${cpu}.tgz`
  if (platform === 'win32') return `cloudflared-windows-${cpu}.exe`
  return `cloudflared-linux-${cpu}`
}

export interface ReleaseLookup extends HttpOptions {
  /** GitHub's API, or a stand-in: TUNNELCTL_GITHUB_API. */
  apiBase: string
  platform: string
  arch: string
}

/** The release with that tag (or the latest) and its asset for the platform; throws a TunnelctlError that says what went wrong. */
export async function findCloudflaredRelease(tag: string, lookup: ReleaseLookup): Promise<CloudflaredRelease> {
  const assetName = assetNameFor(lookup.platform, lookup.arch)
  const url = `${lookup.apiBase.replace(/\/+$/, '')}${RELEASES}/${tag === 'latest' ? 'latest' : `tags/${tag}`}`
  const response = await fetchOrExplain(url, lookup, {accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28'})
  if (response.status === 404) {
    await response.body?.cancel()
    throw new TunnelctlError('NOT_FOUND', `cloudflared has no release ${tag} on GitHub (${url} answered 404). See the tags at https://github.com/cloudflare/cloudflared/releases.`)
  }

  if (!response.ok) {
    await response.body?.cancel()
    const limited = response.status === 403 || response.status === 429 ? ' GitHub limits unauthenticated API requests per hour: try again later.' : ''
    throw new TunnelctlError('DOWNLOAD_FAILED', `GitHub's release API answered ${response.status} ${response.statusText} for ${url}.${limited}`)
  }

  const text = await response.text()
  if (text.length > MAX_RELEASE_JSON_BYTES) throw notARelease(url, 'it is far larger than a release')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw notARelease(url, 'it is not JSON')
  }

  return parseRelease(json, assetName, url)
}

/** The release JSON read field by field: tag_name, and of the platform's asset its name, size, browser_download_url and digest. */
export function parseRelease(json: unknown, assetName: string, url: string): CloudflaredRelease {
  if (!isObject(json)) throw notARelease(url, 'it is not a JSON object')
  const tag = json.tag_name
  if (typeof tag !== 'string' || !TAG.test(tag)) throw notARelease(url, `its tag_name is ${JSON.stringify(tag)}, not a cloudflared tag`)
  if (!Array.isArray(json.assets)) throw notARelease(url, 'it has no assets list')
  const found = json.assets.find((asset) => isObject(asset) && asset.name === assetName)
  if (!isObject(found)) {
    throw new TunnelctlError('CLOUDFLARED_NOT_FOUND', `cloudflared ${tag} has no ${assetName} among its release's assets. Try another tag with --version, or install cloudflared yourself.`)
  }

  const {size, browser_download_url: download, digest} = found
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) throw notARelease(url, `the size of ${assetName} is ${JSON.stringify(size)}`)
  if (typeof download !== 'string' || !isHttpUrl(download)) throw notARelease(url, `the browser_download_url of ${assetName} is ${JSON.stringify(download)}`)
  if (digest === undefined || digest === null) {
    throw new TunnelctlError(
      'DOWNLOAD_FAILED',
      `GitHub gives no digest for ${assetName} of cloudflared ${tag}, so the download could not be verified; nothing was downloaded. Install cloudflared yourself, or try another tag with --version.`,
    )
  }

  const sha256 = typeof digest === 'string' ? DIGEST.exec(digest)?.[1] : undefined
  if (!sha256) throw notARelease(url, `the digest of ${assetName} is ${JSON.stringify(digest)}, not sha256:<64 hex digits>`)
  return {tag, asset: {name: assetName, size, url: download, sha256, archive: assetName.endsWith('.tgz')}}
}

function notARelease(url: string, why: string): TunnelctlError {
  return new TunnelctlError('DOWNLOAD_FAILED', `${url} did not answer with a release GitHub's API would give: ${why}. Nothing was downloaded.`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isHttpUrl(value: string): boolean {
  try {
    const {protocol} = new URL(value)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}
