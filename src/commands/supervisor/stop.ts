import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor, waitForExit} from '../../client/connect.js'
import type {ShutdownResponse} from '../../protocol.js'

export default class SupervisorStop extends TunnelctlCommand {
  static override summary = 'Stop every tunnel and endpoint, and the supervisor; the endpoints stay saved.'
  static override examples = ['<%= config.bin %> supervisor stop']

  async run(): Promise<{wasRunning: boolean} & ShutdownResponse> {
    await this.parse(SupervisorStop)
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
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
