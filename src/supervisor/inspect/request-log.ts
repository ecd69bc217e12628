import {randomBytes} from 'node:crypto'
// The global `performance` is a lazy getter in Node 20: reading it costs more than the clock.
import {performance} from 'node:perf_hooks'
import {MEGABYTE, SETTINGS} from '../../config/settings.js'
import {TunnelctlError} from '../../errors.js'
import {type CapturedBody, MASKED, MASKED_HEADERS, type RecordedRequest, type RequestProtocol, type RequestSource} from '../../protocol/requests.js'
import {BodyCapture} from './body-capture.js'
import {AgeOrder, type AgeLinks} from './age-order.js'
import {BodySlabs, type Slab} from './body-slabs.js'
import {EntryRing} from './entry-ring.js'
import {HeadStore} from './head-store.js'
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

/** An entry's time to its first byte or to its end before it has one. */
const NOT_YET = -1
const NO_LINES: string[] = []

/**
 * One request as the log holds it: mutable while under way, read as a RecordedRequest. Tens of
 * thousands are held at once, so once complete, its path and heads (most of what it holds) move off
 * the heap, into its source's HeadStore, and it keeps only numbers and references the proxy had
 * anyway. A full ring's oldest entry, once complete, is begun again as its newest: entries then stay
 * put in the old generation, where a new object per request, or a string held as long, would be
 * promoted there and collected again at the rate requests come, which cost the proxy more than all
 * the rest of recording.
 */
export class Entry implements AgeLinks<Entry> {
  /** When it began, on performance.now()'s clock: its time is read off that clock too, which spares a call per request. */
  started = 0
  sequence = 0
  readonly source: RequestSource
  method = ''
  private pathText = ''
  visitor = ''
  replayOf: string | undefined
  status: number | null = null
  /**
   * Milliseconds to the response's head and to the end, NOT_YET until then: plain numbers, never
   * null, so that V8 keeps them in place in the entry rather than in a new object each time.
   */
  private firstByteAt = NOT_YET
  private doneAt = NOT_YET
  bytesIn = 0
  bytesOut = 0
  /** Bytes counted for it under maxMemory besides its bodies: given back as they were counted when it is dropped. */
  counted = 0
  protocol: RequestProtocol = 'http'
  requestBody: BodyCapture | undefined
  responseBody: BodyCapture | undefined
  /** Dropped from its ring: captures stop and nothing is told of it. */
  dropped = false
  /** Its place among the entries that hold body bytes (RequestLog's `holding`). */
  older: Entry | undefined
  newer: Entry | undefined
  inOrder = false
  private completed: (() => void)[] | undefined
  /** The heads' names and values, as Node's rawHeaders, while under way; then joined by newlines, which neither may hold, in `heads`. */
  private requestLines: string[] = NO_LINES
  private responseLines: string[] = NO_LINES
  /** The response's head as it came, if the proxy read it itself. */
  private responseRaw: string | undefined
  private heads: Slab | undefined
  private headsOffset = 0
  private pathLength = 0
  private requestHeadLength = 0
  private responseHeadLength = 0
  /** Its body captures, kept for when it is begun again. */
  private requestCapture: BodyCapture | undefined
  private responseCapture: BodyCapture | undefined

  constructor(
    private readonly idPrefix: string,
    sequence: number,
    start: RequestStart,
    /** Where its source's bodies are kept. */
    readonly slabs: BodySlabs,
    /** Where its source's complete requests' heads are kept: apart from the bodies, which go sooner. */
    private readonly headStore: HeadStore,
  ) {
    this.source = start.source
    this.begin(sequence, start)
  }

  /** Its id, made when asked for: the log finds entries by sequence. */
  get id(): string {
    return idOf(this.idPrefix, this.sequence)
  }

  /** Makes it the entry of a new request of the same source: only a complete one that was dropped is begun again. */
  begin(sequence: number, start: RequestStart): void {
    this.started = performance.now()
    this.sequence = sequence
    this.method = start.method
    this.pathText = start.path
    this.visitor = start.visitor
    this.replayOf = start.replayOf
    this.status = null
    this.firstByteAt = NOT_YET
    this.doneAt = NOT_YET
    this.bytesIn = 0
    this.bytesOut = 0
    this.counted = 0
    this.protocol = start.protocol
    this.requestBody = undefined
    this.responseBody = undefined
    this.dropped = false
    this.requestLines = start.headerLines
    this.responseLines = NO_LINES
    this.responseRaw = undefined
    // Where its heads were is read only while it has heads (from finish()).
    this.heads = undefined
  }

  /** A new capture of its request's body. */
  captureRequestBody(): BodyCapture {
    return (this.requestBody = (this.requestCapture ??= new BodyCapture()).reset(this.slabs, 0))
  }

  /** A new capture of its response's body, which expects to keep `expected` bytes. */
  captureResponseBody(expected: number): BodyCapture {
    return (this.responseBody = (this.responseCapture ??= new BodyCapture()).reset(this.slabs, expected))
  }

  /** Its path and query, kept with the heads once complete. */
  get path(): string {
    return this.heads ? this.heads.bytes.toString('latin1', this.headsOffset, this.headsOffset + this.pathLength) : this.pathText
  }

  /** The request's header lines, as Node's rawHeaders. */
  get headerLines(): string[] {
    const start = this.headsOffset + this.pathLength
    return this.heads ? splitLines(this.heads.bytes.toString('latin1', start, start + this.requestHeadLength)) : this.requestLines
  }

  /** The response's header lines, as the upstream sent them. */
  get responseHeaderLines(): string[] {
    const start = this.headsOffset + this.pathLength + this.requestHeadLength
    return this.heads ? splitLines(this.heads.bytes.toString('latin1', start, start + this.responseHeadLength)) : this.responseLines
  }

  /** Its response's head has come (once a request), with `lines` (and as it came, `raw`): returns the bytes it takes more. */
  responded(lines: string[], raw: string | undefined): number {
    this.responseLines = lines
    this.responseRaw = raw
    this.firstByteAt = this.elapsedMs()
    return joinedLength(lines)
  }

  get complete(): boolean {
    return this.doneAt !== NOT_YET
  }

  /** Out of its ring: its captures stop, nothing is told of it, and the place of its heads is given back. */
  drop(): void {
    this.dropped = true
    if (this.heads) this.headStore.giveBack(this.heads)
    this.heads = undefined
  }

  /** Calls `listener` once the request is complete. */
  onComplete(listener: () => void): void {
    if (this.complete) listener()
    else (this.completed ??= []).push(listener)
  }

  /** Marks it complete now and calls who waited for that. */
  finish(): void {
    this.doneAt = this.elapsedMs()
    if (this.status !== null && this.firstByteAt === NOT_YET) this.firstByteAt = this.doneAt
    if (this.completed) for (const listener of this.completed) listener()
    this.completed = undefined
    if (this.dropped) return
    const stored = this.headStore.store(this.pathText, this.requestLines, this.responseLines, this.responseRaw)
    this.heads = stored.slab
    this.headsOffset = stored.offset
    this.pathLength = stored.pathLength
    this.requestHeadLength = stored.requestLength
    this.responseHeadLength = stored.responseLength
    this.pathText = ''
    this.requestLines = NO_LINES
    this.responseLines = NO_LINES
    this.responseRaw = undefined
  }

  elapsedMs(): number {
    return Math.round((performance.now() - this.started) * 10) / 10
  }

  toRecorded(withBodies: boolean): RecordedRequest {
    return {
      id: this.id,
      time: new Date(Math.round(performance.timeOrigin + this.started)).toISOString(),
      source: this.source,
      method: this.method,
      path: this.path,
      status: this.status,
      firstByteMs: this.firstByteAt === NOT_YET ? null : this.firstByteAt,
      durationMs: this.doneAt === NOT_YET ? null : this.doneAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      visitor: this.visitor,
      protocol: this.protocol,
      requestHeaders: masked(this.headerLines),
      responseHeaders: masked(this.responseHeaderLines),
      requestBody: withBodies ? captured(this.requestBody) : null,
      responseBody: withBodies ? captured(this.responseBody) : null,
      ...(this.replayOf === undefined ? {} : {replayOf: this.replayOf}),
    }
  }
}

/**
 * What an entry takes on the heap besides the bytes entryBytes counts, as measured in-process for
 * tens of thousands of them: the object, its body captures, its place in its ring.
 */
export const ENTRY_BYTES = 560

/**
 * A new entry's estimated size, counted under maxMemory with the bodies (full rings of entries take a
 * good part of what the bodies do, and they are as real); its response's head adds to it.
 */
function entryBytes(entry: Entry): number {
  return ENTRY_BYTES + entry.visitor.length + entry.path.length + joinedLength(entry.headerLines)
}

function idOf(prefix: string, sequence: number): string {
  return `${prefix}-${sequence}`
}

/** The length of `lines` joined by newlines, counted without joining them. */
function joinedLength(lines: string[]): number {
  let length = lines.length === 0 ? 0 : lines.length - 1
  for (const line of lines) length += line.length
  return length
}

/** Lines joined by newlines, apart again: header lines come in pairs, so no joined lines are one empty line. */
function splitLines(joined: string): string[] {
  return joined === '' ? [] : joined.split('\n')
}

function masked(lines: string[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const name = lines[index]
    pairs.push([name, MASKED_HEADERS.has(name.toLowerCase()) ? MASKED : lines[index + 1]])
  }

  return pairs
}

/** The bytes of a kept body as a buffer of their own, which stays as it is when the body is let go and its place taken again. */
function copyOf(bytes: Buffer | undefined): Buffer | undefined {
  return bytes && Buffer.from(bytes)
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

/** One source's requests, and where their bodies and, once complete, their heads are kept, off the heap. */
interface SourceRecords {
  ring: EntryRing<Entry>
  bodies: BodySlabs
  heads: HeadStore
  /** Forgotten: its tunnel or endpoint is gone, and one of the same name starts anew. */
  gone: boolean
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
  private readonly sources = new Map<string, SourceRecords>()
  /** Each source's records by the source object the proxy passes, which stays the same for a route: no key to make per request. */
  private readonly bySourceObject = new WeakMap<RequestSource, SourceRecords>()
  /** Entries that hold body bytes, oldest first: the order they give them up in under maxMemory. */
  private readonly holding = new AgeOrder<Entry>()
  private held = 0
  /** Bytes counted under maxMemory: `held` and the entries' estimated sizes. */
  private used = 0
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
    const records = this.recordsOf(start.source)
    const {ring} = records
    const sequence = ++this.sequence
    let entry: Entry | undefined
    while (ring.length >= this.limits.keep) {
      const oldest = ring.shift()!
      this.drop(oldest)
      if (oldest.complete) entry = oldest
    }

    if (entry) entry.begin(sequence, start)
    else entry = new Entry(this.idPrefix, sequence, start, records.bodies, records.heads)
    ring.push(entry, this.limits.keep)
    this.grow(entry, entryBytes(entry))
    return new Recording(this, entry)
  }

  /** The id of the request recorded `sequence`th. */
  idOf(sequence: number): string {
    return idOf(this.idPrefix, sequence)
  }

  private recordsOf(source: RequestSource): SourceRecords {
    const known = this.bySourceObject.get(source)
    if (known && !known.gone) return known
    const key = sourceKey(source)
    let records = this.sources.get(key)
    if (!records) this.sources.set(key, (records = {ring: new EntryRing(), bodies: new BodySlabs(), heads: new HeadStore(), gone: false}))
    this.bySourceObject.set(source, records)
    return records
  }

  /** The entry whose id is `id`, if the log still holds it. */
  private find(id: string): Entry | undefined {
    const dash = id.lastIndexOf('-')
    const sequence = Number(id.slice(dash + 1))
    if (id.slice(0, dash) !== this.idPrefix || !Number.isSafeInteger(sequence) || String(sequence) !== id.slice(dash + 1)) return undefined
    for (const {ring} of this.sources.values()) {
      const entry = ring.find(sequence)
      if (entry) return entry
    }

    return undefined
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
    entry.counted += bytes
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
    const entries = filter.source ? (this.sources.get(sourceKey(filter.source))?.ring.toArray() ?? []) : [...this.sources.values()].flatMap(({ring}) => ring.toArray()).sort((a, b) => a.sequence - b.sequence)
    const newest = filter.limit === undefined ? entries : entries.slice(-filter.limit)
    return newest.map((entry) => entry.toRecorded(false))
  }

  /** One request with its bodies. */
  get(id: string): RecordedRequest | undefined {
    return this.find(id)?.toRecorded(true)
  }

  /** Requests of `source` the log holds. */
  count(source: RequestSource): number {
    return this.sources.get(sourceKey(source))?.ring.length ?? 0
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
    const records = this.sources.get(key)
    if (!records) return
    records.gone = true
    for (const entry of records.ring.toArray()) this.drop(entry)
    this.sources.delete(key)
  }

  /**
   * Sends request `id` again, through the proxy, to its source's target, with its recorded body or
   * `body`; resolves with the new request once it is complete.
   */
  async replay(id: string, body?: Buffer): Promise<RecordedRequest> {
    const entry = this.find(id)
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
    const newId = await this.replayer({source, method, path, headerLines, body: body ?? copyOf(entry.requestBody?.bytes()), replayOf: id})
    const replayed = this.get(newId)
    if (!replayed) throw new TunnelctlError('INTERNAL', `The replay of ${id} was recorded as ${newId}, which was dropped at once (inspect.keep).`)
    return replayed
  }

  /** Drops the bodies of the oldest requests that hold any, older than `entry`, until `room` more bytes fit or none is left. */
  private makeRoom(entry: Entry, room: number): void {
    for (let oldest = this.holding.oldest; oldest !== undefined && oldest !== entry && this.used + room > this.limits.maxMemory; oldest = this.holding.oldest) {
      this.holding.delete(oldest)
      this.releaseBodies(oldest)
    }
  }

  /**
   * Drops the oldest requests, older than `entry`, while the entries alone pass maxMemory. Bodies
   * still held beside them (`entry`'s own) are let go as the next bodies need their room.
   */
  private dropOldest(entry: Entry): void {
    while (this.used - this.held > this.limits.maxMemory) {
      // Each ring keeps the order its requests came in: the oldest of all is the oldest of one of them.
      let ring: EntryRing<Entry> | undefined
      for (const {ring: candidate} of this.sources.values()) if (candidate.length > 0 && (!ring || candidate.oldest!.sequence < ring.oldest!.sequence)) ring = candidate
      if (!ring || ring.oldest === entry) return
      this.drop(ring.shift()!)
    }
  }

  private drop(entry: Entry): void {
    this.used -= entry.counted
    entry.drop()
    if (this.holding.delete(entry)) this.releaseBodies(entry)
  }

  private releaseBodies(entry: Entry): void {
    const released = (entry.requestBody?.release(entry.slabs) ?? 0) + (entry.responseBody?.release(entry.slabs) ?? 0)
    this.held -= released
    this.used -= released
  }
}
