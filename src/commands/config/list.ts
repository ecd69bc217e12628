import {TunnelctlCommand} from '../../cli/base-command.js'
import {settingFor, Settings} from '../../config/settings.js'
import {resolvePaths} from '../../paths.js'
import {renderTable} from '../../render/table.js'

interface SettingRow {
  key: string
  value: string | number | null
  isSet: boolean
  description: string
}

export default class ConfigList extends TunnelctlCommand {
  static override summary = 'List every setting with its value, and where the settings file is.'
  static override examples = ['<%= config.bin %> config list']

  async run(): Promise<SettingRow[]> {
    await this.parse(ConfigList)
    const settings = new Settings(resolvePaths())
    const rows = settings.keys().map((key) => {
      const {description, secret} = settingFor(key)
      const value = settings.get(key) ?? null
      return {key, value: secret && value !== null ? '(hidden)' : value, isSet: settings.isSet(key), description}
    })
    const shown = rows.map((r) => [r.key, r.value === null ? '(not set)' : `${r.value}${r.isSet ? '' : ' (default)'}`, r.description])
    this.log(renderTable(['KEY', 'VALUE', 'DESCRIPTION'], shown))
    this.log(`\nSettings file: ${settings.path}`)
    return rows
  }
}
