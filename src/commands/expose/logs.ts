import {endpointIdArg} from '../../cli/inputs.js'
import {logsDescription, RequestLogsCommand} from '../../cli/request-logs.js'
import type {RecordedRequest} from '../../protocol/requests.js'

export default class ExposeLogs extends RequestLogsCommand {
  static override summary = 'Show the recent requests through an endpoint: time, method, path, status, duration and size.'
  static override description = logsDescription('endpoint')
  static override examples = [
    '<%= config.bin %> expose logs a1b2c3d4',
    '<%= config.bin %> expose logs a1b2c3d4 -n 100',
    '<%= config.bin %> expose logs a1b2c3d4 --follow',
    "<%= config.bin %> expose logs a1b2c3d4 --json | jq '.[] | select(.status >= 500)'",
  ]

  static override args = {id: endpointIdArg({description: 'endpoint id (see `expose list`)', required: true})}

  async run(): Promise<RecordedRequest[] | undefined> {
    const {args, flags} = await this.parse(ExposeLogs)
    return this.showLogs({kind: 'endpoint', id: args.id}, flags)
  }
}
