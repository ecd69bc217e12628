import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor} from '../../client/connect.js'
import {resolvePaths} from '../../paths.js'
import type {SupervisorStatus} from '../../protocol.js'
import {uptimeSince} from '../../render/uptime.js'

export default class SupervisorStatusCommand extends TunnelctlCommand {
  static override summary = 'Say whether the supervisor is running, and its pid, version, uptime and socket.'
  static override description = 'Never starts a supervisor.'
  static override examples = ['<%= config.bin %> supervisor status', '<%= config.bin %> supervisor status --json']

  async run(): Promise<({running: true} & SupervisorStatus) | {running: false; socket: string}> {
    await this.parse(SupervisorStatusCommand)
    const paths = resolvePaths()
    const found = await findSupervisor(paths)
    if (!found) {
      this.log('The supervisor is not running. `tunnelctl supervisor start` starts it, as does any command that changes something.')
      return {running: false, socket: paths.socket}
    }

    const {status} = found
    this.log(
      [
        `Running:  pid ${status.pid}, tunnelctl ${status.version}, up ${uptimeSince(status.startedAt)}`,
        `Tunnels:  ${status.tunnels}`,
        `Exposed:  ${status.endpoints ?? 0} endpoint(s), proxy on 127.0.0.1:${status.proxyPort}`,
        `Socket:   ${status.socket}`,
        `Config:   ${status.configDir}`,
      ].join('\n'),
    )
    return {running: true, ...status}
  }
}
