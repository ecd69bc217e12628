import {TunnelctlCommand} from '../../cli/base-command.js'
import {findSupervisor} from '../../client/connect.js'
import {resolvePaths} from '../../paths.js'
import type {SupervisorStatus} from '../../protocol/supervisor.js'
import {uptimeSince} from '../../render/uptime.js'
import {type ServiceSummary, summarizeService} from '../../service/boot-service.js'

export default class SupervisorStatusCommand extends TunnelctlCommand {
  static override summary = 'Say whether the supervisor is running, and its pid, version, uptime and socket, and whether its boot service is installed.'
  static override description = 'Never starts a supervisor.'
  static override examples = ['<%= config.bin %> supervisor status', '<%= config.bin %> supervisor status --json']

  async run(): Promise<(({running: true} & SupervisorStatus) | {running: false; socket: string}) & {service: ServiceSummary | null}> {
    await this.parse(SupervisorStatusCommand)
    const paths = resolvePaths()
    const service = summarizeService(paths)
    const found = await findSupervisor(paths)
    if (!found) {
      this.log(['The supervisor is not running. `tunnelctl supervisor start` starts it, as does any command that changes something.', ...serviceLine(service)].join('\n'))
      return {running: false, socket: paths.socket, service}
    }

    const {status} = found
    this.log(
      [
        `Running:  pid ${status.pid}, tunnelctl ${status.version}, up ${uptimeSince(status.startedAt)}`,
        `Tunnels:  ${status.tunnels}`,
        `Exposed:  ${status.endpoints ?? 0} endpoint(s), proxy on 127.0.0.1:${status.proxyPort}`,
        `Socket:   ${status.socket}`,
        `Config:   ${status.configDir}`,
        ...serviceLine(service),
      ].join('\n'),
    )
    return {running: true, ...status, service}
  }
}

function serviceLine(service: ServiceSummary | null): string[] {
  if (!service) return []
  if (!service.installed) return ['Service:  not installed (`tunnelctl supervisor install` starts the supervisor at login and keeps it running)']
  return [`Service:  ${service.name}, installed (${service.file}): starts the supervisor at login`]
}
