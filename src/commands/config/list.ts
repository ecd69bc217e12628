import {TunnelctlCommand} from '../../cli/base-command.js'
import {HIDDEN, type InvalidSetting, settingFor, Settings, showValue} from '../../config/settings.js'
import {resolvePaths} from '../../paths.js'
import {renderTable} from '../../render/table.js'

interface SettingRow {
  key: string
  /** What is used: the default when the stored value is invalid. */
  value: string | number | null
  isSet: boolean
  /** The stored value that is not used, and why. */
  invalid: Pick<InvalidSetting, 'value' | 'reason'> | null
  description: string
}

export default class ConfigList extends TunnelctlCommand {
  static override summary = 'List every setting with its value, and where the settings file is.'
  static override description =
    'A value in the file that its setting does not accept (a hand edit) is shown marked invalid, with why; the default is used meanwhile. ' +
    'Keys this tunnelctl does not know are named below the table.'

  static override examples = ['<%= config.bin %> config list']

  async run(): Promise<SettingRow[]> {
    await this.parse(ConfigList)
    const settings = new Settings(resolvePaths())
    const review = settings.review()
    const rows = settings.keys().map((key): SettingRow => {
      const {description, secret} = settingFor(key)
      const value = settings.get(key) ?? null
      const bad = review.invalid.find((invalid) => invalid.key === key)
      const invalid = bad ? {value: bad.value, reason: bad.reason} : null
      return {key, value: secret && value !== null ? HIDDEN : value, isSet: settings.isSet(key), invalid, description}
    })
    const shown = rows.map((r) => [r.key, valueCell(r), r.description])
    this.log(renderTable(['KEY', 'VALUE', 'DESCRIPTION'], shown))
    const invalid = rows.filter((r) => r.invalid)
    if (invalid.length > 0) {
      this.log('')
      for (const r of invalid) this.log(`${r.key} is invalid: ${r.invalid!.reason}`)
      this.log('Fix each with `tunnelctl config set <key> <value>`, or `tunnelctl config unset <key>` for its default.')
    }

    if (review.unknown.length > 0) {
      const keys = review.unknown.map((key) => JSON.stringify(key)).join(', ')
      this.log(`\nNot known to this tunnelctl, and not used: ${keys} (a newer tunnelctl may have written them).`)
    }

    this.log(`\nSettings file: ${settings.path}`)
    return rows
  }
}

function valueCell({value, isSet, invalid}: SettingRow): string {
  if (invalid) return `${showValue(invalid.value)} (invalid; ${value === null ? 'not used' : `${value} is used`})`
  if (value === null) return '(not set)'
  return `${value}${isSet ? '' : ' (default)'}`
}
