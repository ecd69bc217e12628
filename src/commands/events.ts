import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../cli/base-command.js'
import {runningSupervisor} from '../client/connect.js'
import {readRecentEvents} from '../events-file.js'
import {resolvePaths} from '../paths.js'
import type {SupervisorEvent} from '../protocol/events.js'
import {formatEvent} from '../render/events.js'

export default class Events extends TunnelctlCommand {
  static override summary = 'Show recent events: tunnel crashes, starts and stops, supervisor starts and stops.'
  static override description =
    'With --follow, keeps printing events as they happen until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON). ' +
    'Never starts a supervisor: with none running, the recent events come from the events log.'

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
    const paths = resolvePaths()
    const client = await runningSupervisor(paths)
    const print = (event: SupervisorEvent) => process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(event) : formatEvent(event)}\n`)
    if (flags.follow && client) {
      await client.followEvents(print)
      return undefined
    }

    // With no supervisor, the events log holds the same recent events it would have shown.
    const events = client ? await client.listEvents() : await readRecentEvents(paths.eventsLog)
    if (flags.follow) {
      for (const event of events) print(event)
      this.warnUser('The supervisor is not running, so no more events will come. `tunnelctl supervisor start` starts it.')
      return undefined
    }

    this.log(events.length === 0 ? 'No events yet.' : events.map((event) => formatEvent(event)).join('\n'))
    return events
  }
}
