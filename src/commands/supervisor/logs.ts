import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {readLogTail} from '../../client/supervisor-log.js'
import {badInput} from '../../errors.js'
import {resolvePaths} from '../../paths.js'

export default class SupervisorLogs extends TunnelctlCommand {
  static override summary = "Print the end of the supervisor's log."
  static override examples = ['<%= config.bin %> supervisor logs', '<%= config.bin %> supervisor logs -n 200']
  static override flags = {
    lines: Flags.string({char: 'n', description: 'how many lines from the end', default: '50'}),
  }

  async run(): Promise<{path: string; lines: string[]}> {
    const {flags} = await this.parse(SupervisorLogs)
    if (!/^\d{1,6}$/.test(flags.lines) || Number(flags.lines) === 0) {
      throw badInput(`Invalid --lines "${flags.lines}": give a whole number above 0, for example 50.`)
    }

    const {supervisorLog} = resolvePaths()
    const lines = readLogTail(supervisorLog, Number(flags.lines))
    this.log(lines.length === 0 ? `The supervisor log ${supervisorLog} is empty or does not exist yet.` : lines.join('\n'))
    return {path: supervisorLog, lines}
  }
}
