import {TunnelctlCommand} from '../../cli/base-command.js'
import {endpointListing} from '../../cli/listings.js'
import type {EndpointInfo} from '../../protocol/endpoints.js'

export default class ExposeList extends TunnelctlCommand {
  static override summary = 'List the endpoints, oldest first, with those whose file cannot be read at the end.'
  static override examples = ['<%= config.bin %> expose list', '<%= config.bin %> expose list --json']

  async run(): Promise<EndpointInfo[]> {
    await this.parse(ExposeList)
    const {value, text} = await endpointListing()
    this.log(text)
    return value
  }
}
