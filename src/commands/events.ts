import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../cli/base-command.js'
import {countFlag} from '../cli/inputs.js'
import {runningSupervisor} from '../client/connect.js'
import {readRecentEvents} from '../events-file.js'
import {resolvePaths} from '../paths.js'
import type {SupervisorEvent} from '../protocol/events.js'
import {formatEvent} from '../render/events.js'

/** Every event type, for the help: a Record, so that a type added to the protocol and not here fails to compile. */
const EVENT_TYPES: Record<SupervisorEvent['type'], string> = {
  'supervisor.started': 'a supervisor started',
  'supervisor.stopped': 'it stopped, and why',
  'tunnel.started': 'a tunnel got its URL',
  'tunnel.stopped': 'a tunnel was stopped',
  'tunnel.crashed': 'cloudflared exited by itself, with its last lines',
  'tunnel.lost': 'a dead supervisor\'s cloudflared, ended by the next one',
  'expose.started': 'an endpoint was published',
  'expose.up': 'a saved endpoint was brought back by a new supervisor',
  'expose.stopped': 'an endpoint was taken down',
  'expose.restarting': 'a provider\'s process died and is started again',
  'expose.failed': 'it kept dying; it is still tried, less often',
  'expose.recovered': 'after failing, it has stayed up',
  'expose.url_changed': 'an endpoint came back at another URL',
  'expose.unavailable': 'a saved endpoint could not be brought back',
  'expose.broken': 'an endpoint file could not be read',
  'settings.invalid': 'the settings file, or a value in it, cannot be used',
}

const DEFAULT_COUNT = 50

export default class Events extends TunnelctlCommand {
  static override summary = 'Show recent events: starts, stops, crashes and restarts of the supervisor, tunnels and endpoints.'
  static override description = [
    `Shows the last ${DEFAULT_COUNT} events, or as many as --count says. ` +
      'With --follow, keeps printing events as they happen until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON). ' +
      'Never starts a supervisor: with none running, the recent events come from the events log.',
    `Event types:\n${Object.entries(EVENT_TYPES)
      .map(([type, meaning]) => `  ${type.padEnd(19)} ${meaning}`)
      .join('\n')}`,
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events -n 200',
    '<%= config.bin %> events --follow',
    '<%= config.bin %> events --follow --json | jq -c \'select(.type == "tunnel.crashed")\'',
  ]

  static override flags = {
    count: countFlag('count', 'how many of the most recent events to show', DEFAULT_COUNT),
    follow: Flags.boolean({char: 'f', description: 'keep printing new events as they happen'}),
  }

  async run(): Promise<SupervisorEvent[] | undefined> {
    const {flags} = await this.parse(Events)
    const paths = resolvePaths()
    const client = await runningSupervisor(paths)
    const print = (event: SupervisorEvent) => process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(event) : formatEvent(event)}\n`)
    // With no supervisor, the events log holds the same recent events it would have shown.
    const events = (client ? await client.listEvents() : await readRecentEvents(paths.eventsLog)).slice(-flags.count)
    if (flags.follow && client) {
      for (const event of events) print(event)
      // The stream starts with every event the supervisor keeps: those already printed are skipped by id.
      const lastId = events.at(-1)?.id ?? -1
      await client.followEvents((event) => {
        if (event.id > lastId) print(event)
      })
      return undefined
    }

    if (flags.follow) {
      for (const event of events) print(event)
      this.warnUser('The supervisor is not running, so no more events will come. `tunnelctl supervisor start` starts it.')
      return undefined
    }

    this.log(events.length === 0 ? 'No events yet.' : events.map((event) => formatEvent(event)).join('\n'))
    return events
  }
}
