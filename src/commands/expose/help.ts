import {TunnelctlCommand} from '../../cli/base-command.js'
import {showTopicHelp, type TopicCommand} from '../../cli/topic-help.js'

export default class ExposeHelp extends TunnelctlCommand {
  static override summary = 'Show help for the expose commands.'
  static override examples = ['<%= config.bin %> expose help']

  async run(): Promise<{commands: TopicCommand[]}> {
    await this.parse(ExposeHelp)
    return showTopicHelp(this, 'expose')
  }
}
