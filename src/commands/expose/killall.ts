import {TunnelctlCommand} from '../../cli/base-command.js'
import {connectSupervisor} from '../../client/connect.js'
import type {EndpointInfo} from '../../protocol/endpoints.js'

export default class ExposeKillall extends TunnelctlCommand {
  static override summary = 'Take every endpoint down and delete it (files that cannot be read are left alone).'
  static override examples = ['<%= config.bin %> expose killall']

  async run(): Promise<{stopped: number; endpoints: EndpointInfo[]}> {
    await this.parse(ExposeKillall)
    const endpoints = await (await connectSupervisor()).stopAllEndpoints()
    this.log(endpoints.length === 0 ? 'No endpoints.' : `Stopped ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}.`)
    return {stopped: endpoints.length, endpoints}
  }
}
