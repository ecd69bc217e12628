import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {countFlag, endpointIdArg} from '../../cli/inputs.js'
import {DEFAULT_LOG_COUNT, followRequests, requestListing} from '../../cli/request-logs.js'
import type {RecordedRequest} from '../../protocol/requests.js'

export default class ExposeLogs extends TunnelctlCommand {
  static override summary = "Show the recent requests through an endpoint: time, method, path, status, duration and size."
  static override description =
    'Requests are recorded in the supervisor\'s memory only (inspect.keep per endpoint, bodies up to inspect.bodyBytes). ' +
    'With --follow, keeps printing requests as they complete until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON). ' +
    'Replay one with `tunnelctl replay <id>`. Never starts a supervisor.'

  static override examples = [
    '<%= config.bin %> expose logs a1b2c3d4',
    '<%= config.bin %> expose logs a1b2c3d4 -n 100',
    '<%= config.bin %> expose logs a1b2c3d4 --follow',
    '<%= config.bin %> expose logs a1b2c3d4 --json | jq \'.[] | select(.status >= 500)\'',
  ]

  static override args = {id: endpointIdArg({description: 'endpoint id (see `expose list`)', required: true})}
  static override flags = {
    count: countFlag('count', 'how many of the most recent requests to show', DEFAULT_LOG_COUNT),
    follow: Flags.boolean({char: 'f', description: 'keep printing new requests as they complete'}),
  }

  async run(): Promise<RecordedRequest[] | undefined> {
    const {args, flags} = await this.parse(ExposeLogs)
    const source = {kind: 'endpoint', id: args.id} as const
    if (flags.follow) {
      const warning = await followRequests(source, {...flags, json: this.jsonEnabled()})
      if (warning) this.warnUser(warning)
      return undefined
    }

    const {value, text} = await requestListing(source, flags.count)
    this.log(text)
    return value
  }
}
