import {TunnelctlCommand} from '../../cli/base-command.js'
import {tunnelListing} from '../../cli/listings.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelList extends TunnelctlCommand {
  static override summary = 'List the active tunnels, sorted by port.'
  static override examples = ['<%= config.bin %> tunnel list', '<%= config.bin %> tunnel list --json']

  async run(): Promise<TunnelInfo[]> {
    await this.parse(TunnelList)
    const {value, text} = await tunnelListing()
    this.log(text)
    return value
  }
}
