import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../cli/base-command.js'
import {connectSupervisor} from '../client/connect.js'
import type {SupervisorEvent} from '../protocol.js'
import {formatEvent} from '../render/events.js'

export default class Events extends TunnelctlCommand {
  static override summary = 'Show recent events: tunnel crashes, starts and stops, supervisor starts and stops.'
  static override description =
    'With --follow, keeps printing events as they happen until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON).'

  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --follow',
    '<%= config.bin %> events --follow --json | jq -c \'select(.type == "tunnel.crashed")\'',
  ]

  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new events as they happen'}),
  }

  async run(): Promise<SupervisorEvent[] | undefined> {
    const {flags} = await this.parse(Events)
    const client = await connectSupervisor()
    if (flags.follow) {
      await client.followEvents((event) =>
        process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(event) : formatEvent(event)}\n`),
      )
      return undefined
    }

    const events = await client.listEvents()
    this.log(events.length === 0 ? 'No events yet.' : events.map((event) => formatEvent(event)).join('\n'))
    return events
  }
}
