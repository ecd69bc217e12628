import {TunnelctlCommand} from '../../cli/base-command.js'
import {connectSupervisor} from '../../client/connect.js'
import type {EndpointInfo} from '../../expose-protocol.js'
import {renderEndpoints} from '../../render/endpoint.js'

export default class ExposeList extends TunnelctlCommand {
  static override summary = 'List the endpoints, oldest first, with those whose file cannot be read at the end.'
  static override examples = ['<%= config.bin %> expose list', '<%= config.bin %> expose list --json']

  async run(): Promise<EndpointInfo[]> {
    await this.parse(ExposeList)
    const endpoints = await (await connectSupervisor()).listEndpoints()
    this.log(endpoints.length === 0 ? 'No endpoints. Publish one with `tunnelctl expose start <port>`.' : renderEndpoints(endpoints))
    return endpoints
  }
}
