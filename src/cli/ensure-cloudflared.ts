import {type Command, Flags} from '@oclif/core'
import {Settings} from '../config/settings.js'
import {badInput, TunnelctlError} from '../errors.js'
import {DEFAULT_CLOUDFLARED_TAG} from '../install/cloudflared-release.js'
import {resolvePaths} from '../paths.js'
import {callerSearchPath} from '../protocol/search-path.js'
import {cloudflaredSources, findCloudflared, INSTALL_COMMAND, INSTALL_YOURSELF} from '../providers/cloudflare/cloudflared-binary.js'
import {formatBytes} from '../render/download-progress.js'
import {askYesNo} from './ask.js'
import {installWithProgress, lookUpCloudflared} from './cloudflared-installer.js'

/** The variable that gives consent without a flag: CI sets it once for every command. */
export const INSTALL_VARIABLE = 'TUNNELCTL_INSTALL_CLOUDFLARED'

/** `--install-cloudflared`, for every command that needs cloudflared and may fetch it. */
export const installCloudflaredFlag = Flags.boolean({
  description: `if cloudflared is missing, download it (verified) without asking; as ${INSTALL_VARIABLE}=1 does`,
})

/**
 * Makes sure the cloudflared a start will look for is there, before the supervisor is asked: found
 * as the supervisor will find it (cloudflared.path, this command's PATH, the installed copy), or
 * else installed, with consent. Consent is --install-cloudflared, TUNNELCTL_INSTALL_CLOUDFLARED=1,
 * or yes to a question on a terminal; without any of them nothing is downloaded and the command
 * fails saying how to give it.
 */
export async function ensureCloudflared(command: Command, flags: {'install-cloudflared'?: boolean}): Promise<void> {
  const paths = resolvePaths()
  const settings = new Settings(paths)
  // A settings file that does not read hides cloudflared.path; the supervisor goes on with the
  // settings it last read well, so it is the one to say whether cloudflared is there.
  if (settings.check() !== undefined) return
  try {
    await findCloudflared(callerSearchPath(), cloudflaredSources(settings, paths.installedCloudflared))
    return
  } catch (error) {
    // A cloudflared.path that is wrong is the user's choice to fix, not a reason to download another.
    if (!(error instanceof TunnelctlError) || error.code !== 'CLOUDFLARED_NOT_FOUND' || settings.isSet('cloudflared.path')) throw error
  }

  const consented = flags['install-cloudflared'] === true || installVariable()
  const onTerminal = Boolean(process.stdin.isTTY && process.stderr.isTTY)
  if (!consented && !onTerminal) throw notInstalled('without a terminal to ask on, tunnelctl downloads only when told to')

  const release = await lookUpCloudflared(DEFAULT_CLOUDFLARED_TAG)
  if (!consented) {
    const yes = await askYesNo(`Download cloudflared ${release.tag} (${formatBytes(release.asset.size)}) from GitHub into ${paths.binDir}? [Y/n] `)
    if (!yes) throw notInstalled('you said no')
  }

  const installed = await installWithProgress(paths, release)
  if (!command.jsonEnabled()) process.stderr.write(`Installed cloudflared ${installed.version} at ${installed.file}, sha256 verified.\n`)
}

function installVariable(): boolean {
  const value = process.env[INSTALL_VARIABLE]
  if (value === undefined || value === '' || value === '0') return false
  if (value === '1') return true
  throw badInput(`${INSTALL_VARIABLE} must be 1 (download cloudflared when it is missing) or 0, not "${value}".`)
}

function notInstalled(why: string): TunnelctlError {
  return new TunnelctlError(
    'CLOUDFLARED_NOT_FOUND',
    `cloudflared was not found (not set as cloudflared.path, not on PATH, not installed by tunnelctl), and nothing was downloaded: ${why}. ` +
      `To have tunnelctl download it from GitHub and verify it, run \`${INSTALL_COMMAND}\`, or run this again with --install-cloudflared, ` +
      `or set ${INSTALL_VARIABLE}=1 (as CI would). Or install it yourself, then run this again:\n${INSTALL_YOURSELF}`,
  )
}
