import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor, waitForExit} from '../../client/connect.js'
import type {TunnelInfo} from '../../protocol.js'

export default class SupervisorStop extends TunnelctlCommand {
  static override summary = 'Stop every tunnel and the supervisor.'
  static override examples = ['<%= config.bin %> supervisor stop']

  async run(): Promise<{wasRunning: boolean; stopped: TunnelInfo[]}> {
    await this.parse(SupervisorStop)
    const found = await findSupervisor()
    if (!found) {
      this.log('The supervisor is not running.')
      return {wasRunning: false, stopped: []}
    }

    const stopped = await found.client.shutdown()
    await waitForExit(found.status.pid)
    this.log(`Stopped the supervisor (pid ${found.status.pid}) and ${stopped.length} tunnel${stopped.length === 1 ? '' : 's'}.`)
    return {wasRunning: true, stopped}
  }
}
