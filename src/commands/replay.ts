import {Args} from '@oclif/core'
import {TunnelctlCommand} from '../cli/base-command.js'
import {runningSupervisor} from '../client/connect.js'
import {TunnelctlError} from '../errors.js'
import {parseRequestId, type RecordedRequest} from '../protocol/requests.js'

export default class Replay extends TunnelctlCommand {
  static override summary = 'Send a recorded request again to the same tunnel or endpoint, and show the answer.'
  static override description =
    'The supervisor sends it through its proxy to the same target, with the recorded method, path, headers and body, and records it as a new request (replayOf names the first). ' +
    'A request whose body was cut at inspect.bodyBytes is refused: the inspector (`tunnelctl inspect`) can replay it with a body given in full.'

  static override examples = ['<%= config.bin %> replay k3x9a-17', '<%= config.bin %> replay k3x9a-17 --json']
  static override args = {
    id: Args.custom<string>({parse: async (input) => parseRequestId(input)})({description: 'request id (see `tunnel logs` or `expose logs`)', required: true}),
  }

  async run(): Promise<RecordedRequest> {
    const {args} = await this.parse(Replay)
    const client = await runningSupervisor()
    if (!client) throw new TunnelctlError('NOT_FOUND', `No recorded request ${args.id}: the supervisor is not running, and requests are recorded only in its memory.`)
    const request = await client.replayRequest(args.id)
    const {formatBytes} = await import('../render/requests.js')
    const status = request.status === null ? 'no answer' : String(request.status)
    this.log(`Replayed ${args.id} as ${request.id}: ${request.method} ${request.path} → ${status} in ${Math.round(request.durationMs ?? 0)}ms, ${formatBytes(request.bytesOut)}.`)
    return request
  }
}
