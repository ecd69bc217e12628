import Conf from 'conf'
import {badInput, TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'

type Value = string | number

interface Setting {
  description: string
  default?: Value
  /** Turns what the user typed into the stored value, or throws a BAD_INPUT error that says what is allowed. */
  parse(raw: string): Value
}

export const SETTINGS = {
  'notify.webhook': {
    description: 'URL that every event is POSTed to as JSON (http or https).',
    parse(raw: string): string {
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw badInput(`"${raw}" is not a URL. Give an http(s) URL, for example https://hooks.example.com/tunnelctl.`)
      }

      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw badInput(`notify.webhook must be an http or https URL, not ${url.protocol.slice(0, -1)}.`)
      }

      return url.href
    },
  },
  'supervisor.idleTimeout': {
    description: 'Seconds the supervisor waits with nothing running before it exits; 0 keeps it running.',
    default: 300,
    parse(raw: string): number {
      if (!/^\d{1,7}$/.test(raw)) throw badInput(`supervisor.idleTimeout must be a whole number of seconds (0 or more), not "${raw}".`)
      return Number(raw)
    },
  },
} satisfies Record<string, Setting>

export type SettingKey = keyof typeof SETTINGS
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]

export function parseSettingKey(key: string): SettingKey {
  if (key in SETTINGS) return key as SettingKey
  throw badInput(`Unknown setting "${key}". Known settings: ${SETTING_KEYS.join(', ')}.`)
}

/** The user's settings file, <config dir>/config.json. Read afresh on every get, so a running supervisor sees changes. */
export class Settings {
  private readonly conf: Conf<Record<string, unknown>>

  constructor(paths: Paths) {
    // 0600: a webhook URL often carries a token.
    this.conf = new Conf({projectName: 'tunnelctl', cwd: paths.configDir, configName: 'config', projectSuffix: '', configFileMode: 0o600})
  }

  get path(): string {
    return this.conf.path
  }

  /** The stored value if it is valid, else the default. */
  get(key: SettingKey): Value | undefined {
    const stored = this.read(() => this.conf.get(key))
    if (stored !== undefined) {
      try {
        return SETTINGS[key].parse(String(stored))
      } catch {}
    }

    const setting: Setting = SETTINGS[key]
    return setting.default
  }

  isSet(key: SettingKey): boolean {
    return this.read(() => this.conf.has(key))
  }

  set(key: SettingKey, raw: string): Value {
    const value = SETTINGS[key].parse(raw)
    this.read(() => this.conf.set(key, value))
    return value
  }

  unset(key: SettingKey): void {
    this.read(() => this.conf.delete(key))
  }

  private read<T>(action: () => T): T {
    try {
      return action()
    } catch (error) {
      if (error instanceof TunnelctlError) throw error
      throw badInput(`Could not use the settings file ${this.conf.path}: ${(error as Error).message}. Fix or delete it.`)
    }
  }
}
