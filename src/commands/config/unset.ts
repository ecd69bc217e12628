import {TunnelctlCommand} from '../../cli/base-command.js'
import {settingKeyArg} from '../../cli/inputs.js'
import {Settings} from '../../config/settings.js'
import {resolvePaths} from '../../paths.js'

export default class ConfigUnset extends TunnelctlCommand {
  static override summary = 'Remove a setting, back to its default.'
  static override examples = ['<%= config.bin %> config unset notify.webhook']
  static override args = {
    key: settingKeyArg({description: 'setting name (see `config list`)', required: true}),
  }

  async run(): Promise<{key: string}> {
    const {args} = await this.parse(ConfigUnset)
    const {key} = args
    await new Settings(resolvePaths()).unset(key)
    this.log(`${key} unset`)
    return {key}
  }
}
