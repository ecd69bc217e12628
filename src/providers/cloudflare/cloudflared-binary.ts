import {TunnelctlError} from '../../errors.js'
import {findOnPath} from '../find-executable.js'

const INSTALL_HELP = `cloudflared was not found on PATH. Install it, then run this again:
  macOS:          brew install cloudflared
  Debian/Ubuntu:  add Cloudflare's apt repository (https://pkg.cloudflare.com/), then: sudo apt-get install cloudflared
  Windows:        winget install --id Cloudflare.cloudflared
  Anything else:  https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/`

/** The first executable `cloudflared` in the search path: the caller's PATH, else this process's own. */
export async function findCloudflared(searchPath?: string): Promise<string> {
  const found = await findOnPath('cloudflared', searchPath)
  if (!found) throw new TunnelctlError('CLOUDFLARED_NOT_FOUND', INSTALL_HELP)
  return found
}

/**
 * cloudflared reads TUNNEL_* variables as flags (TUNNEL_URL, TUNNEL_METRICS, TUNNEL_TOKEN, …): a
 * stray one in the user's shell would change what a quick tunnel does.
 */
export function cloudflaredEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('TUNNEL_')))
}
