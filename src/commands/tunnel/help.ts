import {loadHelpClass} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'

export default class TunnelHelp extends TunnelctlCommand {
  static override summary = 'Show help for the tunnel commands.'
  static override examples = ['<%= config.bin %> tunnel help']
  static override enableJsonFlag = false

  async run(): Promise<void> {
    await this.parse(TunnelHelp)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config).showHelp(['tunnel'])
  }
}
