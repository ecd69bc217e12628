import {Args} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {settingKeyArg} from '../../cli/inputs.js'
import {Settings} from '../../config/settings.js'
import {resolvePaths} from '../../paths.js'

export default class ConfigSet extends TunnelctlCommand {
  static override summary = 'Change a setting. A running supervisor picks it up at once.'
  static override examples = [
    '<%= config.bin %> config set notify.webhook https://hooks.example.com/tunnelctl',
    '<%= config.bin %> config set supervisor.idleTimeout 600',
    '<%= config.bin %> config set custom.myssh.command "ssh -N -R 0:127.0.0.1:{port} tunnel.example.com"',
  ]

  static override args = {
    key: settingKeyArg({description: 'setting name (see `config list`)', required: true}),
    value: Args.string({description: 'new value', required: true}),
  }

  async run(): Promise<{key: string; value: string | number}> {
    const {args} = await this.parse(ConfigSet)
    const {key} = args
    const value = await new Settings(resolvePaths()).set(key, args.value)
    this.log(`${key} = ${value}`)
    return {key, value}
  }
}
