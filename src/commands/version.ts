import {TunnelctlCommand} from '../cli/base-command.js'

export default class Version extends TunnelctlCommand {
  static override summary = 'Print the version of tunnelctl, and of the platform and Node.js it runs on (also: -v, --version).'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<{version: string; platform: string; arch: string; node: string}> {
    await this.parse(Version)
    const {version, platform, arch, userAgent} = this.config
    this.log(userAgent)
    return {version, platform, arch, node: process.version}
  }
}
