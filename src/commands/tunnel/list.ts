import {TunnelctlCommand} from '../../cli/base-command.js'
import {connectSupervisor} from '../../client/connect.js'
import type {TunnelInfo} from '../../protocol.js'
import {renderTable} from '../../render/table.js'
import {uptimeSince} from '../../render/uptime.js'

export default class TunnelList extends TunnelctlCommand {
  static override summary = 'List the active tunnels, sorted by port.'
  static override examples = ['<%= config.bin %> tunnel list', '<%= config.bin %> tunnel list --json']

  async run(): Promise<TunnelInfo[]> {
    await this.parse(TunnelList)
    const tunnels = await (await connectSupervisor()).listTunnels()
    if (tunnels.length === 0) {
      this.log('No active tunnels.')
    } else {
      const now = new Date()
      const rows = tunnels.map((t) => [String(t.port), t.url ?? '-', t.status, uptimeSince(t.startedAt, now)])
      this.log(renderTable(['PORT', 'URL', 'STATUS', 'UPTIME'], rows))
    }

    return tunnels
  }
}
