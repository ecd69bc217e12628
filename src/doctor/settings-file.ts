import {existsSync} from 'node:fs'
import {Settings} from '../config/settings.js'
import type {Paths} from '../paths.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

/** The settings file reads as the supervisor reads it: one that does not leaves it on the settings it read last. */
export function checkSettingsFile(paths: Paths): Check[] {
  const settings = new Settings(paths)
  const problem = settings.check()
  if (problem === undefined) {
    const summary = existsSync(settings.path) ? `${settings.path} is valid` : 'no settings file; every setting has its default'
    return [{id: 'settings', status: 'ok', summary}]
  }

  return [
    {
      id: 'settings',
      status: 'problem',
      summary: `${settings.path} cannot be used: ${problem}. A running supervisor keeps the settings it read last; \`tunnelctl config\` fails`,
      fix: `Correct it (it must be one JSON object), or delete it to go back to the defaults: rm ${shellWord(settings.path)}`,
    },
  ]
}
