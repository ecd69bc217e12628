import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor, waitForExit} from '../../client/connect.js'
import {endUnansweringSupervisor} from '../../client/end-supervisor.js'
import {SupervisorNotAnswering} from '../../client/supervisor-reply.js'
import {resolvePaths} from '../../paths.js'
import type {ShutdownResponse} from '../../protocol/supervisor.js'

export default class SupervisorStop extends TunnelctlCommand {
  static override summary = 'Stop every tunnel and endpoint, and the supervisor; the endpoints stay saved.'
  static override description =
    'Endpoints stay saved, and come back with the next supervisor. A supervisor that does not answer is ended by its pid: SIGTERM, then SIGKILL after 15 seconds.'
  static override examples = ['<%= config.bin %> supervisor stop']

  async run(): Promise<{wasRunning: boolean; signal?: 'SIGTERM' | 'SIGKILL'} & ShutdownResponse> {
    await this.parse(SupervisorStop)
    try {
      const found = await findSupervisor()
      if (!found) {
        this.log('The supervisor is not running.')
        return {wasRunning: false, stopped: [], endpoints: []}
      }

      const {stopped, endpoints} = await found.client.shutdown()
      await waitForExit(found.status.pid)
      const supervisor = `the supervisor (pid ${found.status.pid})`
      const tunnels = count(stopped.length, 'tunnel')
      this.log(
        endpoints.length === 0
          ? `Stopped ${supervisor} and ${tunnels}.`
          : `Stopped ${supervisor}, ${tunnels} and ${count(endpoints.length, 'endpoint')} (saved: they come back when the supervisor starts again).`,
      )
      return {wasRunning: true, stopped, endpoints}
    } catch (error) {
      if (!(error instanceof SupervisorNotAnswering)) throw error
      return this.endUnanswering()
    }
  }

  private async endUnanswering(): Promise<{wasRunning: true; signal: 'SIGTERM' | 'SIGKILL'} & ShutdownResponse> {
    const {pid, signal} = await endUnansweringSupervisor(resolvePaths())
    this.log(
      signal === 'SIGTERM'
        ? `The supervisor (pid ${pid}) did not answer; it stopped on SIGTERM.`
        : `The supervisor (pid ${pid}) did not answer, nor stop on SIGTERM; it was killed with SIGKILL. The next supervisor ends what it left running: \`tunnelctl supervisor start\`.`,
    )
    return {wasRunning: true, stopped: [], endpoints: [], signal}
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
