import {TunnelctlCommand} from '../../cli/base-command.js'
import {endpointIdArg} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import type {EndpointInfo} from '../../protocol/endpoints.js'

export default class ExposeStop extends TunnelctlCommand {
  static override summary = 'Take an endpoint down and delete it.'
  static override aliases = ['expose:remove']
  static override examples = ['<%= config.bin %> expose stop a1b2c3d4', '<%= config.bin %> expose remove a1b2c3d4']
  static override args = {
    id: endpointIdArg({description: 'endpoint id (see `expose list`)', required: true}),
  }

  async run(): Promise<EndpointInfo> {
    const {args} = await this.parse(ExposeStop)
    const endpoint = await (await connectSupervisor()).stopEndpoint(args.id)
    this.log(`Stopped endpoint ${endpoint.id}${endpoint.url ? ` (${endpoint.url})` : ''}.`)
    return endpoint
  }
}
