import {portArg} from '../../cli/inputs.js'
import {logsDescription, RequestLogsCommand} from '../../cli/request-logs.js'
import type {RecordedRequest} from '../../protocol/requests.js'

export default class TunnelLogs extends RequestLogsCommand {
  static override summary = 'Show the recent requests through a tunnel: time, method, path, status, duration and size.'
  static override description = logsDescription('tunnel')
  static override examples = [
    '<%= config.bin %> tunnel logs 3000',
    '<%= config.bin %> tunnel logs 3000 -n 100',
    '<%= config.bin %> tunnel logs 3000 --follow',
    "<%= config.bin %> tunnel logs 3000 --json | jq '.[] | select(.status >= 500)'",
  ]

  static override args = {port: portArg({description: 'local port of the tunnel (see `tunnel list`)', required: true})}

  async run(): Promise<RecordedRequest[] | undefined> {
    const {args, flags} = await this.parse(TunnelLogs)
    return this.showLogs({kind: 'tunnel', port: args.port}, flags)
  }
}
