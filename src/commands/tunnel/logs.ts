import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {countFlag, portArg} from '../../cli/inputs.js'
import {DEFAULT_LOG_COUNT, followRequests, requestListing} from '../../cli/request-logs.js'
import type {RecordedRequest} from '../../protocol/requests.js'

export default class TunnelLogs extends TunnelctlCommand {
  static override summary = "Show the recent requests through a tunnel: time, method, path, status, duration and size."
  static override description =
    'Requests are recorded in the supervisor\'s memory only (inspect.keep per tunnel, bodies up to inspect.bodyBytes). ' +
    'With --follow, keeps printing requests as they complete until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON). ' +
    'Replay one with `tunnelctl replay <id>`. Never starts a supervisor.'

  static override examples = [
    '<%= config.bin %> tunnel logs 3000',
    '<%= config.bin %> tunnel logs 3000 -n 100',
    '<%= config.bin %> tunnel logs 3000 --follow',
    '<%= config.bin %> tunnel logs 3000 --json | jq \'.[] | select(.status >= 500)\'',
  ]

  static override args = {port: portArg({description: 'local port of the tunnel (see `tunnel list`)', required: true})}
  static override flags = {
    count: countFlag('count', 'how many of the most recent requests to show', DEFAULT_LOG_COUNT),
    follow: Flags.boolean({char: 'f', description: 'keep printing new requests as they complete'}),
  }

  async run(): Promise<RecordedRequest[] | undefined> {
    const {args, flags} = await this.parse(TunnelLogs)
    const source = {kind: 'tunnel', port: args.port} as const
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
