import type {Settings} from '../../config/settings.js'
import {TunnelctlError} from '../../errors.js'
import {findOnPath, isExecutable} from '../find-executable.js'

/** What `tunnelctl cloudflared install` is, for every message that tells someone how to get cloudflared. */
export const INSTALL_COMMAND = 'tunnelctl cloudflared install'

/** How to install cloudflared without tunnelctl, a line for each system. */
export const INSTALL_YOURSELF = `  macOS:          brew install cloudflared
  Debian/Ubuntu:  add Cloudflare's apt repository (https://pkg.cloudflare.com/), then: sudo apt-get install cloudflared
  Windows:        winget install --id Cloudflare.cloudflared
  Anything else:  https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/`

const INSTALL_HELP = `cloudflared was not found: not set as cloudflared.path, not on PATH, and not installed by tunnelctl. Get it with \`${INSTALL_COMMAND}\` (a verified download from cloudflared's GitHub releases), or install it yourself, then run this again:
${INSTALL_YOURSELF}`

/** Where cloudflared may be, besides the caller's PATH. */
export interface CloudflaredSources {
  /** The cloudflared.path setting, read afresh: it may change while a supervisor runs. */
  configured(): string | undefined
  /** The copy `tunnelctl cloudflared install` puts in place (Paths.installedCloudflared). */
  installed: string
}

export function cloudflaredSources(settings: Settings, installed: string): CloudflaredSources {
  return {configured: () => settings.get('cloudflared.path') as string | undefined, installed}
}

/** Which cloudflared runs, and why that one. */
export interface FoundCloudflared {
  file: string
  from: 'cloudflared.path' | 'PATH' | 'installed'
}

/**
 * The cloudflared to run, the one rule client and supervisor share: the cloudflared.path setting when
 * it is set, else the first on the search path (the caller's PATH, else this process's own), else the
 * copy `tunnelctl cloudflared install` put in place. A cloudflared.path that is not executable is an
 * error rather than a reason to run another one: the user chose it.
 */
export async function findCloudflared(searchPath: string | undefined, sources: CloudflaredSources): Promise<FoundCloudflared> {
  const configured = sources.configured()
  if (configured !== undefined) {
    if (await isExecutable(configured)) return {file: configured, from: 'cloudflared.path'}
    throw new TunnelctlError(
      'CLOUDFLARED_NOT_FOUND',
      `cloudflared.path is set to ${configured}, which is not an executable file. Point it at cloudflared with \`tunnelctl config set cloudflared.path <file>\`, or unset it with \`tunnelctl config unset cloudflared.path\`.`,
    )
  }

  const onPath = await findOnPath('cloudflared', searchPath)
  if (onPath) return {file: onPath, from: 'PATH'}
  if (await isExecutable(sources.installed)) return {file: sources.installed, from: 'installed'}
  throw new TunnelctlError('CLOUDFLARED_NOT_FOUND', INSTALL_HELP)
}

/**
 * cloudflared reads TUNNEL_* variables as flags (TUNNEL_URL, TUNNEL_METRICS, TUNNEL_TOKEN, …): a
 * stray one in the user's shell would change what a quick tunnel does.
 */
export function cloudflaredEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('TUNNEL_')))
}
