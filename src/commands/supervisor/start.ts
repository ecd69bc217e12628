import {TunnelctlCommand} from '../../cli/base-command.js'
import {startSupervisor} from '../../client/connect.js'
import {EndpointStore} from '../../endpoint-store.js'
import {resolvePaths} from '../../paths.js'
import type {SupervisorStatus} from '../../protocol/supervisor.js'
import {uptimeSince} from '../../render/uptime.js'

export default class SupervisorStart extends TunnelctlCommand {
  static override summary = 'Start the supervisor, which brings back the saved endpoints; says so when it already runs.'
  static override description =
    'Commands that change something (tunnel start, expose start, stop, update, killall) start it too; commands that only read never do.'

  static override examples = ['<%= config.bin %> supervisor start', '<%= config.bin %> supervisor start --json']

  async run(): Promise<{started: boolean; restoring: number} & SupervisorStatus> {
    await this.parse(SupervisorStart)
    const paths = resolvePaths()
    const {client, started} = await startSupervisor(paths)
    const status = await client.status()
    if (!started) {
      this.log(`The supervisor is already running (pid ${status.pid}, up ${uptimeSince(status.startedAt)}).`)
      return {started, restoring: 0, ...status}
    }

    // It restores them in the background; the files say how many it found.
    const {records} = await new EndpointStore(paths.endpointsDir).readAll()
    const restoring = records.length
    this.log(
      restoring === 0
        ? `Started the supervisor (pid ${status.pid}).`
        : `Started the supervisor (pid ${status.pid}); it is bringing back ${restoring} saved endpoint${restoring === 1 ? '' : 's'}: see \`tunnelctl expose list\`.`,
    )
    return {started, restoring, ...status}
  }
}
