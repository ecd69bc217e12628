import type Conf from 'conf'
import {readFileSync} from 'node:fs'
import {isIP} from 'node:net'
import {hostname} from 'node:os'
import {basename, dirname, isAbsolute} from 'node:path'
import {badInput, TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {isValidPort} from '../ports.js'

type Value = string | number

/** inspect.maxMemory's unit. */
export const MEGABYTE = 1024 * 1024

interface Setting {
  description: string
  default?: Value
  /** Shown as (hidden) by `config list`: it grants access to something. */
  secret?: boolean
  /** Turns what the user typed into the stored value, or throws a BAD_INPUT error that says what is allowed. */
  parse(raw: string): Value
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

function parseHostname(key: string, raw: string): string {
  const host = raw.toLowerCase().replace(/\.$/, '')
  if (!HOSTNAME.test(host)) throw badInput(`${key} must be a DNS hostname such as example.com, not "${raw}".`)
  return host
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
  'proxy.responseTimeout': {
    description: 'Seconds an app may take to start its answer (its response head) before the proxy answers 504; 0 waits for ever.',
    default: 120,
    parse(raw: string): number {
      if (!/^\d{1,5}$/.test(raw) || Number(raw) > 86_400) throw badInput(`proxy.responseTimeout must be a whole number of seconds from 0 (no limit) to 86400, not "${raw}".`)
      return Number(raw)
    },
  },
  'inspect.keep': {
    description: 'Requests recorded per tunnel and endpoint, for logs, replay and the inspector (oldest dropped first); 0 records none.',
    default: 500,
    parse(raw: string): number {
      if (!/^\d{1,6}$/.test(raw) || Number(raw) > 100_000) throw badInput(`inspect.keep must be a whole number of requests from 0 (record none) to 100000, not "${raw}".`)
      return Number(raw)
    },
  },
  'inspect.bodyBytes': {
    description: 'Bytes kept of each recorded request and response body; 0 keeps no bodies.',
    default: 65_536,
    parse(raw: string): number {
      if (!/^\d{1,9}$/.test(raw) || Number(raw) > 64 * 1024 * 1024) throw badInput(`inspect.bodyBytes must be a whole number of bytes from 0 (no bodies) to 67108864, not "${raw}".`)
      return Number(raw)
    },
  },
  'inspect.maxMemory': {
    description: 'Megabytes all recorded requests may take together, their bodies and their entries (estimated); past it the oldest requests lose their bodies first, then the oldest requests go.',
    default: 64,
    parse(raw: string): number {
      if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 16_384) throw badInput(`inspect.maxMemory must be a whole number of megabytes from 1 to 16384, not "${raw}".`)
      return Number(raw)
    },
  },
  'inspect.port': {
    description: 'Port of the web inspector (`tunnelctl inspect`) on 127.0.0.1; 0 picks a free one. Read when the inspector starts.',
    default: 0,
    parse(raw: string): number {
      if (!/^\d{1,5}$/.test(raw) || (Number(raw) !== 0 && !isValidPort(Number(raw)))) throw badInput(`inspect.port must be a port from 1 to 65535, or 0 for any free one, not "${raw}".`)
      return Number(raw)
    },
  },
  'cloudflare.token': {
    description: 'Token of a Cloudflare tunnel; with cloudflare.domain, expose endpoints get <name>.<domain> on it instead of quick tunnels.',
    secret: true,
    parse(raw: string): string {
      if (!/^[A-Za-z0-9+/=_-]{20,}$/.test(raw)) {
        throw badInput('cloudflare.token must be the tunnel token Cloudflare shows for `cloudflared tunnel run --token` (one long base64 string).')
      }

      return raw
    },
  },
  'cloudflare.domain': {
    description: 'Domain routed to the cloudflare.token tunnel (a wildcard DNS record *.<domain> pointing at it).',
    parse: (raw: string): string => parseHostname('cloudflare.domain', raw),
  },
  'cloudflared.path': {
    description: 'The cloudflared program to run, used before the one on PATH and the one `tunnelctl cloudflared install` put in place.',
    parse(raw: string): string {
      if (!isAbsolute(raw)) throw badInput(`cloudflared.path must be an absolute path to the cloudflared program, such as /usr/local/bin/cloudflared, not "${raw}".`)
      return raw
    },
  },
  'local.port': {
    description: "Port of the local provider's first endpoint; each other takes the next free one after it.",
    default: 18_221,
    parse(raw: string): number {
      if (!/^\d+$/.test(raw) || !isValidPort(Number(raw))) throw badInput(`local.port must be a port from 1 to 65535, not "${raw}".`)
      return Number(raw)
    },
  },
  'local.address': {
    description: 'Address the local provider listens on: 0.0.0.0 for every interface, or one interface\'s address.',
    default: '0.0.0.0',
    parse(raw: string): string {
      if (isIP(raw) === 0) throw badInput(`local.address must be an IP address such as 0.0.0.0 or 192.168.1.20, not "${raw}".`)
      return raw
    },
  },
  'local.hostname': {
    description: "Name other machines on the network reach this one by; a local endpoint's URL is http://<it>:<its port>.",
    default: hostname().toLowerCase(),
    parse: (raw: string): string => parseHostname('local.hostname', raw),
  },
} satisfies Record<string, Setting>

const CUSTOM_KEY = /^custom\.([a-z][a-z0-9-]{0,30})\.(command|match|url)$/

/** custom.<name>.*: a provider of the user's own, run as a shell command given the proxy's port. */
const CUSTOM_SETTINGS: Record<'command' | 'match' | 'url', Setting> = {
  command: {
    description: 'Shell command that publishes the proxy; {port} is replaced by its port.',
    parse(raw: string): string {
      if (!raw.includes('{port}')) throw badInput('A custom command must contain {port}, where the proxy port goes, e.g. "ssh -N -R 0:127.0.0.1:{port} host".')
      return raw
    },
  },
  match: {
    description: "Regular expression for the line of the command's output that gives the URL.",
    parse(raw: string): string {
      try {
        new RegExp(raw)
      } catch (error) {
        throw badInput(`The custom match is not a valid regular expression: ${(error as Error).message}.`)
      }

      return raw
    },
  },
  url: {
    description: 'The URL, built from the match: {0} is the whole match, {1}… its groups.',
    default: '{0}',
    parse(raw: string): string {
      if (!/^https?:\/\//.test(raw)) throw badInput(`A custom url must start with http:// or https://, e.g. "http://localhost:{1}", not "${raw}".`)
      return raw
    },
  },
}

type SettingKey = keyof typeof SETTINGS
const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]
const BUILT_IN_PROVIDERS = ['cloudflare', 'tailscale', 'local'] as const

/** The definition behind a key, or a BAD_INPUT error that lists the keys there are. */
export function settingFor(key: string): Setting {
  const setting = knownSetting(key)
  if (setting) return setting
  throw badInput(
    `Unknown setting "${key}". Known settings: ${SETTING_KEYS.join(', ')}, and custom.<name>.command|match|url for a provider of your own.`,
  )
}

function knownSetting(key: string): Setting | undefined {
  if (Object.hasOwn(SETTINGS, key)) return SETTINGS[key as SettingKey]
  const custom = CUSTOM_KEY.exec(key)
  if (custom && !(BUILT_IN_PROVIDERS as readonly string[]).includes(custom[1])) return CUSTOM_SETTINGS[custom[2] as 'command' | 'match' | 'url']
  return undefined
}

/** A value in the settings file that its setting does not accept; the setting's default is used instead. */
export interface InvalidSetting {
  key: string
  /** As the file holds it; (hidden) for a secret. */
  value: unknown
  /** Why, in the words `config set` would use: what the setting accepts. */
  reason: string
  default: Value | undefined
}

/** What stands for a secret's value wherever values are shown. */
export const HIDDEN = '(hidden)'

/** A value from the settings file as it is written there, for people to read. */
export function showValue(value: unknown): string {
  return value === HIDDEN ? HIDDEN : JSON.stringify(value)
}

/** What is used instead of a bad value, said after "tunnelctl" or "the supervisor". */
export function fallbackOf(invalid: InvalidSetting): string {
  return invalid.default === undefined ? 'treats it as not set' : `uses its default, ${invalid.default}`
}

/** What the settings file holds that is not used: bad values, and keys this tunnelctl does not know. */
export interface SettingsReview {
  invalid: InvalidSetting[]
  /** Dotted; their values are not looked at (one may be a newer tunnelctl's secret). */
  unknown: string[]
}

export interface CustomProviderSettings {
  name: string
  command?: string
  match?: string
  url: string
}

/** What is wrong with the settings file: the whole file, or (with a key) one value in it. */
export type SettingsProblem = {key?: undefined; reason: string} | InvalidSetting

/**
 * Hears of a problem with the settings file when it appears, and again, with fixed, when it is gone.
 * Called when that changes, not on every read: once for each distinct problem.
 */
export type SettingsProblemListener = (problem: SettingsProblem, fixed: boolean) => void

/**
 * The user's settings file, <config dir>/config.json, nested by the dots in the keys. Read afresh on
 * every get, so a running supervisor sees changes. Reading is a JSON.parse; conf, which writes it
 * (atomically, 0600), is loaded only to write: it takes longer to load than the supervisor to start.
 *
 * A file that cannot be used makes a read throw, which a command reports. Given a listener, as the
 * supervisor does, a read never throws: it goes on with the contents last read well (none at first),
 * since the file may be bad only for a moment, half-way through an editor's save. A value its
 * setting does not accept (a hand edit) is read as the setting's default, and the listener hears of it.
 */
export class Settings {
  readonly path: string
  private lastGood: Record<string, unknown> = {}
  private problem: string | undefined
  /** The bad values the listener last heard of, by key, with the JSON the file held. */
  private invalid = new Map<string, {problem: InvalidSetting; stored: string}>()

  constructor(
    paths: Paths,
    private readonly onProblem?: SettingsProblemListener,
  ) {
    this.path = paths.configFile
  }

  /** Why the file cannot be used, read afresh; undefined when it can, or does not exist. */
  check(): string | undefined {
    try {
      readSettingsFile(this.path)
      return undefined
    } catch (error) {
      return (error as Error).message
    }
  }

  /** The stored value if it is valid, else the default. */
  get(key: string): Value | undefined {
    const setting = settingFor(key)
    const stored = lookUp(this.stored(), key)
    if (stored !== undefined) {
      const read = readStored(key, setting, stored)
      if ('value' in read) return read.value
    }

    return setting.default
  }

  /** What the file holds that is not used, in the file's order. */
  review(): SettingsReview {
    return reviewStore(this.stored())
  }

  isSet(key: string): boolean {
    return lookUp(this.stored(), key) !== undefined
  }

  async set(key: string, raw: string): Promise<Value> {
    const value = settingFor(key).parse(raw)
    const conf = await this.conf()
    this.use(() => conf.set(key, value))
    return value
  }

  async unset(key: string): Promise<void> {
    settingFor(key)
    const conf = await this.conf()
    this.use(() => {
      conf.delete(key)
      const custom = CUSTOM_KEY.exec(key)
      if (custom && Object.keys(conf.get(`custom.${custom[1]}`) ?? {}).length === 0) conf.delete(`custom.${custom[1]}`)
    })
  }

  /** Every key that has a value or a default, custom providers' included, in a stable order. */
  keys(): string[] {
    return [...SETTING_KEYS, ...this.customProviders().flatMap((c) => ['command', 'match', 'url'].map((part) => `custom.${c.name}.${part}`))]
  }

  /** The custom providers the user has configured, by name. */
  customProviders(): CustomProviderSettings[] {
    const custom = lookUp(this.stored(), 'custom')
    if (typeof custom !== 'object' || custom === null) return []
    return Object.keys(custom)
      .filter((name) => CUSTOM_KEY.test(`custom.${name}.command`) && !(BUILT_IN_PROVIDERS as readonly string[]).includes(name))
      .sort()
      .map((name) => ({
        name,
        command: this.get(`custom.${name}.command`) as string | undefined,
        match: this.get(`custom.${name}.match`) as string | undefined,
        url: this.get(`custom.${name}.url`) as string,
      }))
  }

  private stored(): Record<string, unknown> {
    let reason: string | undefined
    try {
      this.lastGood = readSettingsFile(this.path)
    } catch (error) {
      if (!this.onProblem) throw this.unusable(error as Error)
      reason = (error as Error).message
    }

    if (this.onProblem) this.tell(this.onProblem, reason)
    return this.lastGood
  }

  /** Tells the listener what changed since it last heard. */
  private tell(listener: SettingsProblemListener, reason: string | undefined): void {
    const news: Array<[SettingsProblem, boolean]> = []
    if (reason !== this.problem) news.push(reason === undefined ? [{reason: this.problem!}, true] : [{reason}, false])
    this.problem = reason

    const invalid = new Map<string, {problem: InvalidSetting; stored: string}>()
    for (const problem of reviewStore(this.lastGood).invalid) {
      // Compared as stored, not as shown: a secret is shown as (hidden) whatever it holds.
      const stored = JSON.stringify(lookUp(this.lastGood, problem.key))
      invalid.set(problem.key, {problem, stored})
      if (this.invalid.get(problem.key)?.stored !== stored) news.push([problem, false])
    }

    for (const [key, {problem}] of this.invalid) if (!invalid.has(key)) news.push([problem, true])
    this.invalid = invalid
    // Told only once noted: the listener may read settings itself (the events log reads the webhook).
    for (const [problem, fixed] of news) listener(problem, fixed)
  }

  private async conf(): Promise<Conf<Record<string, unknown>>> {
    const {default: Conf} = await import('conf')
    // 0600: a webhook URL or a tunnel token grants access.
    return this.use(
      () =>
        new Conf({
          projectName: 'tunnelctl',
          cwd: dirname(this.path),
          configName: basename(this.path, '.json'),
          projectSuffix: '',
          configFileMode: 0o600,
        }),
    )
  }

  private use<T>(action: () => T): T {
    try {
      return action()
    } catch (error) {
      if (error instanceof TunnelctlError) throw error
      throw this.unusable(error as Error)
    }
  }

  private unusable(error: Error): TunnelctlError {
    return badInput(`Could not use the settings file ${this.path}: ${error.message}. Fix or delete it.`)
  }
}

/** The file's contents; throws with why it cannot be used. A file that does not exist holds nothing. */
function readSettingsFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw error
  }

  const parsed = JSON.parse(text) as unknown
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it is not a JSON object')
  return parsed as Record<string, unknown>
}

/**
 * A stored value as its setting reads it, or why it does not. conf writes what `config set` parsed,
 * so a value that does not read is a hand edit.
 */
function readStored(key: string, setting: Setting, stored: unknown): {value: Value} | {reason: string} {
  const single = typeof stored === 'string' || typeof stored === 'number'
  try {
    const value = setting.parse(single ? String(stored) : JSON.stringify(stored))
    if (single) return {value}
  } catch (error) {
    return {reason: (error as Error).message}
  }

  return {reason: `${key} must be one value, text or a number, not ${showValue(shown(setting, stored))}.`}
}

function shown(setting: Setting, stored: unknown): unknown {
  return setting.secret ? HIDDEN : stored
}

function reviewStore(store: Record<string, unknown>, prefix = ''): SettingsReview {
  const review: SettingsReview = {invalid: [], unknown: []}
  for (const [name, stored] of Object.entries(store)) {
    const key = prefix + name
    // A name with a dot in it is never one of ours: conf nests at every dot.
    const setting = name.includes('.') ? undefined : knownSetting(key)
    if (setting) {
      const read = readStored(key, setting, stored)
      if ('reason' in read) review.invalid.push({key, value: shown(setting, stored), reason: read.reason, default: setting.default})
    } else if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) {
      const inner = reviewStore(stored as Record<string, unknown>, `${key}.`)
      review.invalid.push(...inner.invalid)
      review.unknown.push(...inner.unknown)
    } else {
      review.unknown.push(key)
    }
  }

  return review
}

/** The value at a dotted key, as conf nests it: `custom.mine.command` is {custom: {mine: {command}}}. */
function lookUp(store: Record<string, unknown>, key: string): unknown {
  let value: unknown = store
  for (const part of key.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string, unknown>)[part]
  }

  return value
}
