import {randomBytes} from 'node:crypto'
import {MEGABYTE, SETTINGS} from '../../config/settings.js'
import {TunnelctlError} from '../../errors.js'
import {type CapturedBody, MASKED, MASKED_HEADERS, type RecordedRequest, type RequestProtocol, type RequestSource} from '../../protocol/requests.js'
import type {BodyCapture} from './body-capture.js'
import {BodySlabs} from './body-slabs.js'
import {Recording} from './recording.js'

/** How much the log keeps; the supervisor sets them from inspect.* as the settings change. */
export interface RequestLogLimits {
  /** Requests kept per source; 0 records nothing. */
  keep: number
  /** Bytes kept of each body; 0 keeps none. */
  bodyBytes: number
  /** Bytes all recorded requests may take, their entries' estimated sizes and their kept bodies: past it, the oldest requests' bodies are dropped, then the oldest requests. */
  maxMemory: number
}

/** What the proxy knows of a request when it comes in. */
export interface RequestStart {
  source: RequestSource
  method: string
  path: string
  visitor: string
  protocol: RequestProtocol
  /** As Node's rawHeaders: name, value, name, value… Kept unmasked, for a replay; masked wherever they are shown. */
  headerLines: string[]
  replayOf?: string
}

/** A request to send again, as the proxy needs it. */
export interface ReplaySend {
  source: RequestSource
  method: string
  path: string
  headerLines: string[]
  body: Buffer | undefined
  replayOf: string
}

/** Sends a request through the proxy again; resolves with the id of its new entry once that is complete. */
export type Replayer = (send: ReplaySend) => Promise<string>

/**
 * One request as the log holds it: mutable while under way, read as a RecordedRequest. Tens of
 * thousands are held at once, so each is one object with its header lines joined into one string
 * each way (an array of small strings takes several times the memory), and once complete, those
 * move off the heap, into its source's slabs: they are most of what it holds.
 */
export class Entry {
  readonly time = Date.now()
  readonly started = performance.now()
  readonly source: RequestSource
  readonly method: string
  readonly path: string
  readonly visitor: string
  readonly replayOf: string | undefined
  status: number | null = null
  firstByteMs: number | null = null
  durationMs: number | null = null
  bytesIn = 0
  bytesOut = 0
  protocol: RequestProtocol
  requestBody: BodyCapture | undefined
  responseBody: BodyCapture | undefined
  /** Dropped from its ring: captures stop and nothing is told of it. */
  dropped = false
  private completed: (() => void)[] | undefined
  /** The heads' names and values, each followed by a newline, which neither may hold: strings while under way, then in `heads`. */
  private requestText: string
  private responseText = ''
  private heads: Buffer | undefined
  private headsOffset = 0
  private requestHeadLength = 0
  private responseHeadLength = 0

  constructor(
    readonly id: string,
    readonly sequence: number,
    start: RequestStart,
    /** Where its source's bodies are kept. */
    readonly slabs: BodySlabs,
    /** Where its source's complete requests' heads are kept: apart from the bodies, which go sooner. */
    private readonly headSlabs: BodySlabs,
  ) {
    this.source = start.source
    this.method = start.method
    this.path = start.path
    this.visitor = start.visitor
    this.replayOf = start.replayOf
    this.protocol = start.protocol
    this.requestText = joinLines(start.headerLines)
  }

  get requestHead(): string {
    return this.heads ? this.heads.toString('latin1', this.headsOffset, this.headsOffset + this.requestHeadLength) : this.requestText
  }

  get responseHead(): string {
    const start = this.headsOffset + this.requestHeadLength
    return this.heads ? this.heads.toString('latin1', start, start + this.responseHeadLength) : this.responseText
  }

  /** Set while under way, once its response has begun. */
  set responseHead(text: string) {
    this.responseText = text
  }

  /** Bytes of both heads. */
  get headBytes(): number {
    return this.heads ? this.requestHeadLength + this.responseHeadLength : this.requestText.length + this.responseText.length
  }

  get headerLines(): string[] {
    return splitLines(this.requestHead)
  }

  get complete(): boolean {
    return this.durationMs !== null
  }

  /** Calls `listener` once the request is complete. */
  onComplete(listener: () => void): void {
    if (this.complete) listener()
    else (this.completed ??= []).push(listener)
  }

  /** Marks it complete now and calls who waited for that. */
  finish(): void {
    this.durationMs = this.elapsedMs()
    if (this.status !== null && this.firstByteMs === null) this.firstByteMs = this.durationMs
    for (const listener of this.completed ?? []) listener()
    this.completed = undefined
    if (this.dropped) return
    this.requestHeadLength = this.requestText.length
    this.responseHeadLength = this.responseText.length
    ;({slab: this.heads, offset: this.headsOffset} = this.headSlabs.take(this.requestHeadLength + this.responseHeadLength))
    this.heads.write(this.requestText, this.headsOffset, 'latin1')
    this.heads.write(this.responseText, this.headsOffset + this.requestHeadLength, 'latin1')
    this.requestText = ''
    this.responseText = ''
  }

  elapsedMs(): number {
    return Math.round((performance.now() - this.started) * 10) / 10
  }

  toRecorded(withBodies: boolean): RecordedRequest {
    return {
      id: this.id,
      time: new Date(this.time).toISOString(),
      source: this.source,
      method: this.method,
      path: this.path,
      status: this.status,
      firstByteMs: this.firstByteMs,
      durationMs: this.durationMs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      visitor: this.visitor,
      protocol: this.protocol,
      requestHeaders: masked(this.headerLines),
      responseHeaders: masked(splitLines(this.responseHead)),
      requestBody: withBodies ? captured(this.requestBody) : null,
      responseBody: withBodies ? captured(this.responseBody) : null,
      ...(this.replayOf === undefined ? {} : {replayOf: this.replayOf}),
    }
  }
}

/**
 * What an entry takes on the heap besides the strings entryBytes counts, as measured in-process for
 * tens of thousands of them: the object, its body captures, its id, its places in the log's maps
 * and ring.
 */
export const ENTRY_BYTES = 560

/** An entry's estimated size, counted under maxMemory with the bodies: full rings of entries take a good part of what the bodies do, and they are as real. */
export function entryBytes(entry: Entry): number {
  return ENTRY_BYTES + entry.path.length + entry.visitor.length + entry.headBytes
}

export function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function splitLines(joined: string): string[] {
  return joined === '' ? [] : joined.slice(0, -1).split('\n')
}

function masked(lines: string[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const name = lines[index]
    pairs.push([name, MASKED_HEADERS.has(name.toLowerCase()) ? MASKED : lines[index + 1]])
  }

  return pairs
}

function captured(body: BodyCapture | undefined): CapturedBody | null {
  return body ? body.toCaptured() : null
}

export function sourceKey(source: RequestSource): string {
  return source.kind === 'tunnel' ? `tunnel:${source.port}` : `endpoint:${source.id}`
}

/** The inspect.* settings' defaults. */
export const DEFAULT_LIMITS: RequestLogLimits = {
  keep: SETTINGS['inspect.keep'].default,
  bodyBytes: SETTINGS['inspect.bodyBytes'].default,
  maxMemory: SETTINGS['inspect.maxMemory'].default * MEGABYTE,
}

/**
 * Every request the proxy passed on (or refused for a route it has), in memory only: a ring per
 * source of `keep` requests, and the first `bodyBytes` of each body, while the entries' estimated
 * sizes and the kept bodies together stay under `maxMemory`: past it the oldest requests' bodies go
 * first, then, should the entries alone reach it, the oldest requests. The proxy's tap (Recording)
 * fills entries in; the control routes and the inspector read them.
 */
export class RequestLog {
  limits: RequestLogLimits
  private readonly rings = new Map<string, Entry[]>()
  private readonly byId = new Map<string, Entry>()
  /** Entries that hold body bytes, oldest first (a Set keeps its order): the order they give them up in under maxMemory. */
  private readonly holding = new Set<Entry>()
  private held = 0
  /** Bytes counted under maxMemory: `held` and the entries' estimated sizes. */
  private used = 0
  /** Each source's kept bodies and its complete requests' heads, off the heap. */
  private readonly slabs = new Map<string, {bodies: BodySlabs; heads: BodySlabs}>()
  private readonly listeners = new Set<(entry: RecordedRequest) => void>()
  private readonly idPrefix = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(5, '0')
  private sequence = 0
  private replayer: Replayer | undefined

  constructor(limits: RequestLogLimits = DEFAULT_LIMITS) {
    this.limits = limits
  }

  /** Whether requests are recorded at all: the proxy's tap costs nothing when they are not. */
  get recording(): boolean {
    return this.limits.keep > 0
  }

  /** The proxy's way to send a recorded request again; set once the proxy exists. */
  replayThrough(replayer: Replayer): void {
    this.replayer = replayer
  }

  /** Records a new request, newest in its source's ring, where the oldest is dropped past `keep`: the proxy's tap fills it in. */
  record(start: RequestStart): Recording {
    const key = sourceKey(start.source)
    let slabs = this.slabs.get(key)
    if (!slabs) this.slabs.set(key, (slabs = {bodies: new BodySlabs(), heads: new BodySlabs()}))
    const entry = new Entry(`${this.idPrefix}-${++this.sequence}`, this.sequence, start, slabs.bodies, slabs.heads)
    let ring = this.rings.get(key)
    if (!ring) this.rings.set(key, (ring = []))
    ring.push(entry)
    this.byId.set(entry.id, entry)
    while (ring.length > this.limits.keep) this.drop(ring.shift()!)
    this.grow(entry, entryBytes(entry))
    return new Recording(this, entry)
  }

  /**
   * Bytes `entry` may keep of a body chunk of `size`, making room under maxMemory by dropping the
   * bodies of older requests. Counted as held at once: the caller copies that many.
   */
  reserve(entry: Entry, capture: BodyCapture, size: number): number {
    const room = Math.min(size, this.limits.bodyBytes - capture.keptBytes)
    if (room <= 0 || entry.dropped || capture.closed) return 0
    const {maxMemory} = this.limits
    if (this.used + room > maxMemory) this.makeRoom(entry, room)
    const granted = Math.max(0, Math.min(room, maxMemory - this.used))
    if (granted === 0) return 0
    this.holding.add(entry)
    this.held += granted
    this.used += granted
    return granted
  }

  /** `entry` takes `bytes` more than it did (its response's head): counted, making room if need be. */
  grow(entry: Entry, bytes: number): void {
    if (entry.dropped) return
    this.used += bytes
    if (this.used <= this.limits.maxMemory) return
    this.makeRoom(entry, 0)
    this.dropOldest(entry)
  }

  /** `capture` of `entry` has all it will keep: what it kept aside on the heap joins the rest in its source's slabs. */
  seal(entry: Entry, capture: BodyCapture): void {
    if (!entry.dropped && !capture.closed) capture.seal(entry.slabs)
  }

  /** The request has ended: its listeners hear of it. */
  complete(entry: Entry): void {
    if (entry.complete) return
    entry.finish()
    if (entry.responseBody) this.seal(entry, entry.responseBody)
    if (entry.dropped || this.listeners.size === 0) return
    const recorded = entry.toRecorded(false)
    for (const listener of this.listeners) listener(recorded)
  }

  /** Summaries, oldest first: of one source, or of all. `limit`: only the newest that many. */
  list(filter: {source?: RequestSource; limit?: number} = {}): RecordedRequest[] {
    const entries = filter.source ? (this.rings.get(sourceKey(filter.source)) ?? []) : [...this.rings.values()].flat().sort((a, b) => a.sequence - b.sequence)
    const newest = filter.limit === undefined ? entries : entries.slice(-filter.limit)
    return newest.map((entry) => entry.toRecorded(false))
  }

  /** One request with its bodies. */
  get(id: string): RecordedRequest | undefined {
    return this.byId.get(id)?.toRecorded(true)
  }

  /** Requests of `source` the log holds. */
  count(source: RequestSource): number {
    return this.rings.get(sourceKey(source))?.length ?? 0
  }

  /** Bytes of body kept, over all requests. */
  get heldBytes(): number {
    return this.held
  }

  /** Bytes counted under maxMemory: the kept bodies and the entries' estimated sizes. */
  get usedBytes(): number {
    return this.used
  }

  /** `listener` hears of every request as it completes, as a summary; call the result to stop. */
  subscribe(listener: (entry: RecordedRequest) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Forgets every request of `source`: its tunnel or endpoint is gone. */
  forget(source: RequestSource): void {
    const key = sourceKey(source)
    for (const entry of this.rings.get(key) ?? []) this.drop(entry)
    this.rings.delete(key)
    this.slabs.delete(key)
  }

  /**
   * Sends request `id` again, through the proxy, to its source's target, with its recorded body or
   * `body`; resolves with the new request once it is complete.
   */
  async replay(id: string, body?: Buffer): Promise<RecordedRequest> {
    const entry = this.byId.get(id)
    if (!entry) throw new TunnelctlError('NOT_FOUND', `No recorded request ${id}: it may have been dropped (inspect.keep), or to stay within inspect.maxMemory. See the recent ones with \`tunnelctl expose logs <id>\` or \`tunnelctl tunnel logs <port>\`.`)
    if (body === undefined && entry.requestBody?.truncated) {
      throw new TunnelctlError(
        'CONFLICT',
        `Request ${id} cannot be replayed: only ${entry.requestBody.keptBytes} of its ${entry.requestBody.size} body bytes were kept (inspect.bodyBytes, inspect.maxMemory). Replay it with the body given in full from the inspector (\`tunnelctl inspect\`), or raise inspect.bodyBytes for the requests to come.`,
      )
    }

    if (!entry.complete && entry.protocol !== 'http') throw new TunnelctlError('CONFLICT', `Request ${id} is still under way; replay it once it has ended.`)
    if (entry.protocol === 'websocket') throw new TunnelctlError('CONFLICT', `Request ${id} is a WebSocket upgrade, which cannot be replayed.`)
    if (!this.replayer) throw new TunnelctlError('INTERNAL', 'The proxy cannot replay requests yet.')
    const {source, method, path, headerLines} = entry
    const newId = await this.replayer({source, method, path, headerLines, body: body ?? entry.requestBody?.bytes(), replayOf: id})
    const replayed = this.get(newId)
    if (!replayed) throw new TunnelctlError('INTERNAL', `The replay of ${id} was recorded as ${newId}, which was dropped at once (inspect.keep).`)
    return replayed
  }

  /** Drops the bodies of the oldest requests that hold any, older than `entry`, until `room` more bytes fit or none is left. */
  private makeRoom(entry: Entry, room: number): void {
    for (const oldest of this.holding) {
      if (this.used + room <= this.limits.maxMemory || oldest === entry) return
      this.holding.delete(oldest)
      this.releaseBodies(oldest)
    }
  }

  /**
   * Drops the oldest requests, older than `entry`, while the entries alone pass maxMemory. Bodies
   * still held beside them (`entry`'s own) are let go as the next bodies need their room.
   */
  private dropOldest(entry: Entry): void {
    // byId keeps the order requests came in, as each ring does: the oldest of all is first in its ring.
    for (const oldest of this.byId.values()) {
      if (this.used - this.held <= this.limits.maxMemory || oldest === entry) return
      this.rings.get(sourceKey(oldest.source))!.shift()
      this.drop(oldest)
    }
  }

  private drop(entry: Entry): void {
    entry.dropped = true
    this.byId.delete(entry.id)
    this.used -= entryBytes(entry)
    if (this.holding.delete(entry)) this.releaseBodies(entry)
  }

  private releaseBodies(entry: Entry): void {
    const released = (entry.requestBody?.release() ?? 0) + (entry.responseBody?.release() ?? 0)
    this.held -= released
    this.used -= released
  }
}
