import {TunnelctlCommand} from '../../cli/base-command.js'
import {showTopicHelp, type TopicCommand} from '../../cli/topic-help.js'

export default class TunnelHelp extends TunnelctlCommand {
  static override summary = 'Show help for the tunnel commands.'
  static override examples = ['<%= config.bin %> tunnel help', '<%= config.bin %> tunnel help --json']

  async run(): Promise<{commands: TopicCommand[]}> {
    await this.parse(TunnelHelp)
    return showTopicHelp(this, 'tunnel')
  }
}
