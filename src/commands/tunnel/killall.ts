import {TunnelctlCommand} from '../../cli/base-command.js'
import {connectSupervisor} from '../../client/connect.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelKillall extends TunnelctlCommand {
  static override summary = 'Stop every tunnel.'
  static override examples = ['<%= config.bin %> tunnel killall']

  async run(): Promise<{stopped: number; tunnels: TunnelInfo[]}> {
    await this.parse(TunnelKillall)
    const tunnels = await (await connectSupervisor()).stopAllTunnels()
    this.log(tunnels.length === 0 ? 'No active tunnels.' : `Stopped ${tunnels.length} tunnel${tunnels.length === 1 ? '' : 's'}.`)
    return {stopped: tunnels.length, tunnels}
  }
}
