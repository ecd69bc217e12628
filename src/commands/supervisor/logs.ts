import {TunnelctlCommand} from '../../cli/base-command.js'
import {countFlag} from '../../cli/inputs.js'
import {readLogTail} from '../../client/supervisor-log.js'
import {resolvePaths} from '../../paths.js'

export default class SupervisorLogs extends TunnelctlCommand {
  static override summary = "Print the end of the supervisor's log."
  static override examples = ['<%= config.bin %> supervisor logs', '<%= config.bin %> supervisor logs -n 200']
  static override flags = {
    lines: countFlag('lines', 'how many lines from the end', 50),
  }

  async run(): Promise<{path: string; lines: string[]}> {
    const {flags} = await this.parse(SupervisorLogs)
    const {supervisorLog} = resolvePaths()
    const lines = readLogTail(supervisorLog, flags.lines)
    this.log(lines.length === 0 ? `The supervisor log ${supervisorLog} is empty or does not exist yet.` : lines.join('\n'))
    return {path: supervisorLog, lines}
  }
}
