import {TunnelctlCommand} from '../../cli/base-command.js'
import {resolvePaths} from '../../paths.js'
import {requireBootService, uninstallService} from '../../service/boot-service.js'

export default class SupervisorUninstall extends TunnelctlCommand {
  static override summary = 'Remove the service `supervisor install` made: stop it, disable it, delete its file.'
  static override description = 'Stopping it stops every tunnel; endpoints stay saved and come back with the next supervisor, which commands start on demand again.'
  static override examples = ['<%= config.bin %> supervisor uninstall']

  async run(): Promise<{wasInstalled: boolean; manager: string; name: string; file: string}> {
    await this.parse(SupervisorUninstall)
    const service = requireBootService(resolvePaths())
    const {manager, name, file} = service
    const wasInstalled = await uninstallService(service)
    this.log(
      wasInstalled
        ? `Stopped, disabled and removed ${name} (${file}). Commands start the supervisor on demand again.`
        : `${name} is not installed (there is no ${file}); nothing to remove.`,
    )
    return {wasInstalled, manager, name, file}
  }
}
