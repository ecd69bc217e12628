import {TunnelctlCommand} from '../../cli/base-command.js'
import {SETTING_KEYS, SETTINGS, Settings} from '../../config/settings.js'
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
    const rows = SETTING_KEYS.map((key) => ({
      key,
      value: settings.get(key) ?? null,
      isSet: settings.isSet(key),
      description: SETTINGS[key].description,
    }))
    const shown = rows.map((r) => [r.key, r.value === null ? '(not set)' : `${r.value}${r.isSet ? '' : ' (default)'}`, r.description])
    this.log(renderTable(['KEY', 'VALUE', 'DESCRIPTION'], shown))
    this.log(`\nSettings file: ${settings.path}`)
    return rows
  }
}
