import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor, waitForExit} from '../../client/connect.js'
import {endUnansweringSupervisor} from '../../client/end-supervisor.js'
import {SupervisorNotAnswering} from '../../client/supervisor-client.js'
import {resolvePaths} from '../../paths.js'
import type {TunnelInfo} from '../../protocol.js'

export default class SupervisorStop extends TunnelctlCommand {
  static override summary = 'Stop every tunnel and the supervisor.'
  static override description =
    'Endpoints stay saved, and come back with the next supervisor. A supervisor that does not answer is ended by its pid: SIGTERM, then SIGKILL after 15 seconds.'
  static override examples = ['<%= config.bin %> supervisor stop']

  async run(): Promise<{wasRunning: boolean; stopped: TunnelInfo[]; signal?: 'SIGTERM' | 'SIGKILL'}> {
    await this.parse(SupervisorStop)
    try {
      const found = await findSupervisor()
      if (!found) {
        this.log('The supervisor is not running.')
        return {wasRunning: false, stopped: []}
      }

      const stopped = await found.client.shutdown()
      await waitForExit(found.status.pid)
      this.log(`Stopped the supervisor (pid ${found.status.pid}) and ${stopped.length} tunnel${stopped.length === 1 ? '' : 's'}.`)
      return {wasRunning: true, stopped}
    } catch (error) {
      if (!(error instanceof SupervisorNotAnswering)) throw error
      return this.endUnanswering()
    }
  }

  private async endUnanswering(): Promise<{wasRunning: true; stopped: TunnelInfo[]; signal: 'SIGTERM' | 'SIGKILL'}> {
    const {pid, signal} = await endUnansweringSupervisor(resolvePaths())
    this.log(
      signal === 'SIGTERM'
        ? `The supervisor (pid ${pid}) did not answer; it stopped on SIGTERM.`
        : `The supervisor (pid ${pid}) did not answer, nor stop on SIGTERM; it was killed with SIGKILL. The next supervisor ends what it left running: \`tunnelctl supervisor start\`.`,
    )
    return {wasRunning: true, stopped: [], signal}
  }
}
