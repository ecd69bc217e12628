import {loadHelpClass} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'

export default class TunnelHelp extends TunnelctlCommand {
  static override summary = 'Show help for the tunnel commands.'
  static override examples = ['<%= config.bin %> tunnel help', '<%= config.bin %> tunnel help --json']

  async run(): Promise<{commands: Array<{command: string; summary: string}>}> {
    await this.parse(TunnelHelp)
    if (!this.jsonEnabled()) {
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['tunnel'])
    }

    const commands = this.config.commands
      .filter((command) => command.id.startsWith('tunnel:') && !command.hidden)
      .map((command) => ({command: command.id.replaceAll(':', ' '), summary: command.summary ?? ''}))
      .sort((a, b) => a.command.localeCompare(b.command))
    return {commands}
  }
}
