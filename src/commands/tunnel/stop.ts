import {TunnelctlCommand} from '../../cli/base-command.js'
import {portArg} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelStop extends TunnelctlCommand {
  static override summary = "Stop the tunnel on a port (SIGTERM, then SIGKILL if cloudflared lingers)."
  static override examples = ['<%= config.bin %> tunnel stop 3000']
  static override args = {
    port: portArg({description: 'port whose tunnel to stop', required: true}),
  }

  async run(): Promise<TunnelInfo> {
    const {args} = await this.parse(TunnelStop)
    const {port} = args
    const tunnel = await (await connectSupervisor()).stopTunnel(port)
    this.log(`Stopped the tunnel on port ${port}${tunnel.url ? ` (${tunnel.url})` : ''}.`)
    return tunnel
  }
}
