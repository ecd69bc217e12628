import {findOnPath, isExecutable} from '../find-executable.js'

// The app's own CLI always matches the daemon it talks to; a Homebrew `tailscale` on PATH talking to
// the app's daemon may be another version, or not on a launchd PATH at all.
const MAC_APP_CLI = '/Applications/Tailscale.app/Contents/MacOS/Tailscale'

export const TAILSCALE_INSTALL_HELP =
  'tailscale was not found on PATH. Install Tailscale (https://tailscale.com/download), log in with `tailscale up` (or the app), then run this again.'

/** The macOS app's CLI when it is installed, else the first executable `tailscale` in the search path (the caller's PATH, else this process's own). */
export async function findTailscale(searchPath?: string): Promise<string | undefined> {
  if (process.platform === 'darwin' && (await isExecutable(MAC_APP_CLI))) return MAC_APP_CLI
  return findOnPath('tailscale', searchPath)
}
