import {TunnelctlCommand} from '../../cli/base-command.js'
import {settingKeyArg} from '../../cli/inputs.js'
import {Settings} from '../../config/settings.js'
import {resolvePaths} from '../../paths.js'

export default class ConfigGet extends TunnelctlCommand {
  static override summary = 'Print a setting (its default when it is not set; nothing when it has none).'
  static override examples = ['<%= config.bin %> config get notify.webhook']
  static override args = {
    key: settingKeyArg({description: 'setting name (see `config list`)', required: true}),
  }

  async run(): Promise<{key: string; value: string | number | null}> {
    const {args} = await this.parse(ConfigGet)
    const {key} = args
    const value = new Settings(resolvePaths()).get(key) ?? null
    if (value !== null) this.log(String(value))
    return {key, value}
  }
}
