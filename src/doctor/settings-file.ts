import {existsSync} from 'node:fs'
import {fallbackOf, Settings, showValue} from '../config/settings.js'
import type {Paths} from '../paths.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

/**
 * The settings file reads as the supervisor reads it: one that does not leaves it on the settings it
 * read last, and a bad value on that setting's default. A key it does not know is only a warning: a
 * newer tunnelctl may have written it.
 */
export function checkSettingsFile(paths: Paths): Check[] {
  const settings = new Settings(paths)
  const problem = settings.check()
  if (problem !== undefined) {
    return [
      {
        id: 'settings',
        status: 'problem',
        summary: `${settings.path} cannot be used: ${problem}. A running supervisor keeps the settings it read last; \`tunnelctl config\` fails`,
        fix: `Correct it (it must be one JSON object), or delete it to go back to the defaults: rm ${shellWord(settings.path)}`,
      },
    ]
  }

  const {invalid, unknown} = settings.review()
  const checks: Check[] = [
    ...invalid.map((bad): Check => {
      const unset = bad.default === undefined ? 'to leave it unset' : `for the default (${bad.default})`
      return {
        id: 'settings',
        status: 'problem',
        summary: `${bad.key} is ${showValue(bad.value)}: ${bad.reason} Until it is fixed tunnelctl ${fallbackOf(bad)}`,
        fix: `tunnelctl config set ${bad.key} <value>, or tunnelctl config unset ${bad.key} ${unset}`,
      }
    }),
    ...unknown.map(
      (key): Check => ({
        id: 'settings',
        status: 'warn',
        summary: `${settings.path} holds ${JSON.stringify(key)}, which this tunnelctl does not know and ignores (a newer tunnelctl may have written it)`,
        fix: `If a newer tunnelctl wrote it, leave it. Otherwise remove it from ${shellWord(settings.path)}, and set what you meant with tunnelctl config set <key> <value> (tunnelctl config list shows the keys)`,
      }),
    ),
  ]
  if (checks.length > 0) return checks
  const summary = existsSync(settings.path) ? `${settings.path} is valid` : 'no settings file; every setting has its default'
  return [{id: 'settings', status: 'ok', summary}]
}
