import {Flags} from '@oclif/core'
import {askYesNo} from '../../cli/ask.js'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {installWithProgress, lookUpCloudflared} from '../../cli/cloudflared-installer.js'
import {Settings} from '../../config/settings.js'
import {TunnelctlError} from '../../errors.js'
import {DEFAULT_CLOUDFLARED_TAG, parseCloudflaredTag} from '../../install/cloudflared-release.js'
import {type InstallResult, installedAt} from '../../install/install-cloudflared.js'
import {type Paths, resolvePaths} from '../../paths.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import {cloudflaredSources, findCloudflared} from '../../providers/cloudflare/cloudflared-binary.js'
import {formatBytes} from '../../render/download-progress.js'

export default class CloudflaredInstall extends TunnelctlCommand {
  static override summary = "Download cloudflared from its GitHub releases, verify its sha256, and install it for tunnelctl."
  static override description =
    "Finds the release through GitHub's API (TUNNELCTL_GITHUB_API overrides the address), downloads this platform's asset (HTTPS_PROXY and NO_PROXY are honoured; TUNNELCTL_DOWNLOAD_TIMEOUT sets the seconds any wait may take, 30 by default), checks it against the sha256 digest GitHub gives for it, checks that it runs, and only then puts it at <home>/bin/cloudflared (the directory of the settings file, or TUNNELCTL_HOME). tunnelctl runs, in this order: cloudflared.path if it is set, cloudflared on PATH, then this copy. Asks first on a terminal, unless --yes."

  static override examples = [
    '<%= config.bin %> cloudflared install',
    '<%= config.bin %> cloudflared install --version latest --yes',
    `<%= config.bin %> cloudflared install --version ${DEFAULT_CLOUDFLARED_TAG} --json`,
  ]

  static override flags = {
    version: Flags.custom<string>({
      description: 'the release tag to install, or latest',
      helpValue: '<tag>',
      default: DEFAULT_CLOUDFLARED_TAG,
      parse: async (input) => parseCloudflaredTag(input),
    })(),
    yes: Flags.boolean({char: 'y', description: 'do not ask before downloading'}),
  }

  async run(): Promise<InstallResult & {warnings: string[]}> {
    const {flags} = await this.parse(CloudflaredInstall)
    const paths = resolvePaths()
    // A tag asked for by name is checked before any request: installing it again needs no network.
    let result = flags.version === 'latest' ? undefined : await installedAt(paths, flags.version)
    if (!result) {
      const release = await lookUpCloudflared(flags.version)
      result = await installedAt(paths, release.tag)
      if (!result) {
        const onTerminal = process.stdin.isTTY && process.stderr.isTTY
        const question = `Download cloudflared ${release.tag} (${formatBytes(release.asset.size)}) from GitHub into ${paths.binDir}? [Y/n] `
        if (onTerminal && !flags.yes && !(await askYesNo(question))) {
          throw new TunnelctlError('CLOUDFLARED_NOT_FOUND', 'Nothing was downloaded. Run this again and answer y, or add --yes.')
        }

        result = await installWithProgress(paths, release)
      }
    }

    this.log(result.alreadyInstalled ? `cloudflared ${result.tag} is already installed at ${result.file}.` : `Installed cloudflared ${result.version} at ${result.file}, sha256 verified.`)
    const warnings = await shadowedBy(paths)
    for (const warning of warnings) this.warnUser(warning)
    return {...result, warnings}
  }
}

/** Whether another cloudflared comes first in the order tunnelctl looks: the user should know it is not this one that runs. */
async function shadowedBy(paths: Paths): Promise<string[]> {
  const used = await findCloudflared(callerSearchPath(), cloudflaredSources(new Settings(paths), paths.installedCloudflared)).catch(() => undefined)
  if (!used || used.from === 'installed') return []
  const how = used.from === 'PATH' ? 'it comes first on PATH' : 'cloudflared.path names it'
  return [`tunnelctl runs ${used.file} rather than this copy, since ${how}.`]
}
