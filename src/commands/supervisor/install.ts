import {TunnelctlCommand} from '../../cli/base-command.js'
import {awaitSupervisor, findSupervisor} from '../../client/connect.js'
import {resolvePaths} from '../../paths.js'
import {installService, isInstalled, requireBootService} from '../../service/boot-service.js'

export default class SupervisorInstall extends TunnelctlCommand {
  static override summary = 'Run the supervisor as a service: started at login (or boot), restarted when it fails, endpoints brought back.'
  static override description =
    'Linux: a systemd user unit in ~/.config/systemd/user, enabled and started with `systemctl --user enable --now`. ' +
    'macOS: a LaunchAgent in ~/Library/LaunchAgents, loaded with `launchctl bootstrap`. ' +
    'With TUNNELCTL_HOME set, the service is that home\'s own. Running it again rewrites the file from this shell (node, PATH). ' +
    '`tunnelctl supervisor uninstall` removes it.'

  static override examples = ['<%= config.bin %> supervisor install', '<%= config.bin %> supervisor install --json']

  async run(): Promise<{installed: true; manager: string; name: string; file: string; changed: boolean}> {
    await this.parse(SupervisorInstall)
    const paths = resolvePaths()
    const service = requireBootService(paths)
    const wasInstalled = isInstalled(service)
    // One started by a command keeps the socket; the service's own starts, finds it, and leaves it be.
    const running = wasInstalled ? undefined : await findSupervisor(paths)
    const {changed} = await installService(service)
    const {manager, name, file} = service
    const what = wasInstalled ? (changed ? `Rewrote ${name} (${file})` : `${name} was already installed (${file})`) : `Installed ${name} (${file})`
    this.log(`${what}: the supervisor starts at login and restarts when it fails.`)
    if (running) {
      this.log(`The supervisor already running (pid ${running.status.pid}) keeps running; the service's takes over after \`tunnelctl supervisor stop\` or at the next login.`)
    } else if (!wasInstalled) {
      // Enabled and started: it answers before this returns, so that the next command finds it.
      const started = await awaitSupervisor(paths)
      this.log(
        started
          ? `The supervisor (pid ${started.pid}) runs under it.`
          : `No supervisor answered yet: see \`${service.statusCommand}\` and \`tunnelctl supervisor logs\`.`,
      )
    } else if (wasInstalled && changed) {
      this.log('A supervisor it already runs keeps the old settings until `tunnelctl supervisor stop` (the next command then starts the new one).')
    }

    for (const line of service.afterInstall) this.log(line)
    return {installed: true, manager, name, file, changed}
  }
}
