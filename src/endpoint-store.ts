import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readdir, readFile, rm} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {writeFileAtomically} from './atomic-file.js'
import {TunnelctlError} from './errors.js'
import {ENDPOINT_ID, EXPOSE_MODES, type ExposeMode} from './protocol/endpoints.js'
import {type ExposeTarget, formatExposeTarget, parseExposeTarget} from './protocol/expose-target.js'
import {searchPathProblem} from './protocol/search-path.js'
import {isValidPort} from './ports.js'

export const ENDPOINT_FILE_VERSION = 1

/** One endpoint as stored: <config dir>/expose/endpoints/<id>.json. Never a password, only its bcrypt hash. */
export interface EndpointRecord {
  version: typeof ENDPOINT_FILE_VERSION
  id: string
  /** Stable for the endpoint's life; providers that make a hostname per endpoint use it. */
  name: string
  provider: string
  mode: ExposeMode
  target: ExposeTarget
  auth: {username: string; bcrypt: string} | null
  createdAt: string
  /** The URL it was last published at, so that a new supervisor can tell whether it changed; absent from older files. */
  lastUrl?: string
  /** The PATH of the command that created it, where its provider's programs are looked for; absent from older files and from requests without one. */
  searchPath?: string
  /** The port its provider listens on for it alone (local), asked for again when it comes back; files from before have none. */
  listenPort?: number
}

/** A file that could not be used: reported, and left exactly as it is for the user to fix. */
export interface BrokenEndpointFile {
  id: string
  file: string
  reason: string
}

const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/

export function newEndpointId(): string {
  return randomBytes(4).toString('hex')
}

/** The endpoint files, one JSON document each, written atomically and 0600 (they hold auth hashes). */
export class EndpointStore {
  /** The last write or removal asked for each file: the next waits for it, so the last one asked is the one that lands. */
  private readonly pending = new Map<string, Promise<void>>()

  constructor(readonly dir: string) {}

  async readAll(): Promise<{records: EndpointRecord[]; broken: BrokenEndpointFile[]}> {
    const records: EndpointRecord[] = []
    const broken: BrokenEndpointFile[] = []
    for (const file of await this.files()) {
      const id = basename(file, '.json')
      try {
        records.push(parseEndpointRecord(JSON.parse(await readFile(file, 'utf8')), id))
      } catch (error) {
        broken.push({id, file, reason: (error as Error).message})
      }
    }

    return {records, broken}
  }

  /** Atomically: a crash or a full disk leaves the old file or the new one, never half of one. */
  write(record: EndpointRecord): Promise<void> {
    return this.inTurn(record.id, () => this.writeNow(record))
  }

  /** Like write, but only over a file that is still there: an endpoint removed meanwhile stays removed. */
  rewrite(record: EndpointRecord): Promise<void> {
    return this.inTurn(record.id, async () => {
      if (existsSync(this.fileOf(record.id))) await this.writeNow(record)
    })
  }

  private async writeNow(record: EndpointRecord): Promise<void> {
    const file = this.fileOf(record.id)
    try {
      await mkdir(this.dir, {recursive: true, mode: 0o700})
      await writeFileAtomically(file, `${JSON.stringify(serialise(record), null, 2)}\n`)
    } catch (error) {
      throw cannot('save', file, error)
    }
  }

  /** Every endpoint file, sorted by name; none while the directory does not exist. */
  async files(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(this.dir, name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
  }

  remove(id: string): Promise<void> {
    const file = this.fileOf(id)
    return this.inTurn(id, async () => {
      try {
        await rm(file, {force: true})
      } catch (error) {
        throw cannot('delete', file, error)
      }
    })
  }

  fileOf(id: string): string {
    return join(this.dir, `${id}.json`)
  }

  private inTurn(id: string, change: () => Promise<void>): Promise<void> {
    const done = (this.pending.get(id) ?? Promise.resolve()).catch(() => {}).then(change)
    this.pending.set(id, done)
    const forget = () => {
      if (this.pending.get(id) === done) this.pending.delete(id)
    }
    done.then(forget, forget)
    return done
  }
}

function cannot(what: string, file: string, error: unknown): TunnelctlError {
  return new TunnelctlError(
    'STORAGE_FAILED',
    `Could not ${what} ${file}: ${(error as Error).message}. Make sure its directory is writable and the disk has room, then try again; nothing was changed.`,
  )
}

function serialise(record: EndpointRecord) {
  return {...record, target: formatExposeTarget(record.target)}
}

/** Checks a file's content field by field; the message says what is wrong with it. */
function parseEndpointRecord(value: unknown, idFromName: string): EndpointRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object')
  const o = value as Record<string, unknown>
  if (o.version !== ENDPOINT_FILE_VERSION) {
    throw new Error(
      typeof o.version === 'number' && o.version > ENDPOINT_FILE_VERSION
        ? `version ${o.version} is newer than this tunnelctl reads (${ENDPOINT_FILE_VERSION}); upgrade tunnelctl`
        : `unknown version ${JSON.stringify(o.version)}`,
    )
  }

  const {id, name, provider, mode, target, auth, createdAt, lastUrl, searchPath, listenPort} = o
  if (typeof id !== 'string' || !ENDPOINT_ID.test(id)) throw new Error('"id" must be 8 lowercase letters or digits')
  if (id !== idFromName) throw new Error(`"id" is ${id} but the file is named for ${idFromName}`)
  if (typeof name !== 'string' || name.length === 0) throw new Error('"name" must be a non-empty string')
  if (typeof provider !== 'string' || provider.length === 0) throw new Error('"provider" must be a non-empty string')
  if (!EXPOSE_MODES.includes(mode as ExposeMode)) throw new Error(`"mode" must be one of ${EXPOSE_MODES.join(', ')}`)
  if (typeof target !== 'string') throw new Error('"target" must be a string')
  let parsedTarget: ExposeTarget
  try {
    parsedTarget = parseExposeTarget(target)
  } catch (error) {
    throw new Error(`"target": ${(error as Error).message}`)
  }

  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new Error('"createdAt" must be an ISO 8601 time')
  const searchPathWrong = searchPath === undefined ? undefined : searchPathProblem(searchPath)
  if (searchPathWrong) throw new Error(`"searchPath" ${searchPathWrong}`)
  if (listenPort !== undefined && !isValidPort(listenPort)) throw new Error('"listenPort" must be a port from 1 to 65535, or absent')
  return {
    version: ENDPOINT_FILE_VERSION,
    id,
    name,
    provider,
    mode: mode as ExposeMode,
    target: parsedTarget,
    auth: parseAuth(auth),
    createdAt,
    lastUrl: parseLastUrl(lastUrl),
    ...(searchPath !== undefined && {searchPath: searchPath as string}),
    ...(listenPort === undefined ? {} : {listenPort}),
  }
}

function parseLastUrl(lastUrl: unknown): string | undefined {
  if (lastUrl === undefined) return undefined
  if (typeof lastUrl !== 'string' || !/^https?:\/\//.test(lastUrl) || !URL.canParse(lastUrl)) throw new Error('"lastUrl" must be an http(s) URL')
  return lastUrl
}

function parseAuth(auth: unknown): EndpointRecord['auth'] {
  if (auth === null) return null
  if (typeof auth !== 'object' || Array.isArray(auth)) throw new Error('"auth" must be null or {username, bcrypt}')
  const {username, bcrypt} = auth as Record<string, unknown>
  if (typeof username !== 'string' || username.length === 0) throw new Error('"auth.username" must be a non-empty string')
  if (typeof bcrypt !== 'string' || !BCRYPT.test(bcrypt)) throw new Error('"auth.bcrypt" must be a bcrypt hash')
  return {username, bcrypt}
}
