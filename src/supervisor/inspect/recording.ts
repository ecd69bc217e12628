import type {ServerResponse} from 'node:http'
import type {Readable} from 'node:stream'
import {firstHeader} from '../proxy/forwarding.js'
import type {Entry, RequestLog} from './request-log.js'

const EVENT_STREAM_TYPE = 'text/event-stream'
const EVENT_STREAM = /^\s*text\/event-stream/i

/** A response's head as the proxy read it. */
export interface AnsweredHead {
  status: number
  /** As Node's rawHeaders: name, value, name, value… */
  lines: string[]
  /** The body's length, when the head gives it. */
  length?: number
  /** The head as it came, when the proxy read it itself: the same text is the same head. */
  raw?: string
}

/**
 * The proxy's tap on one request: counts and copies what passes into the request's entry. Each call
 * is a few assignments; body bytes are copied only while the entry and the log have room for them.
 * The log begins a dropped entry again for a newer request once it is complete: what comes after
 * that (the last bytes of a body cut short, an upgraded connection's close) no longer touches it.
 */
export class Recording {
  private readonly sequence: number

  constructor(
    private readonly log: RequestLog,
    private readonly entry: Entry,
  ) {
    this.sequence = entry.sequence
  }

  /** The request's id. */
  get id(): string {
    return this.log.idOf(this.sequence)
  }

  /** Calls `listener` once the request is complete. */
  onComplete(listener: () => void): void {
    this.entry.onComplete(listener)
  }

  /** Counts the request's body as it streams to the upstream, keeping its first bytes. Attach it in the tick that starts the upload. */
  tapRequestBody(body: Readable): void {
    const {entry, log} = this
    const capture = log.limits.bodyBytes > 0 ? entry.captureRequestBody() : undefined
    body.on('data', (chunk: Buffer) => {
      if (!this.current) return
      entry.bytesIn += chunk.length
      capture?.add(chunk, log.reserve(entry, capture, chunk.length), entry.slabs)
    })
    if (capture) body.once('end', () => this.current && log.seal(entry, capture))
  }

  /** The response's head, as the upstream sent it. */
  head({status, lines, length, raw}: AnsweredHead): void {
    const {entry} = this
    if (!this.current) return
    entry.status = status
    this.log.grow(entry, entry.responded(lines, raw))
    const contentType = firstHeader(lines, 'content-type')
    // Shorter values (text/plain, text/html) cannot name an event stream: no regular expression run for them.
    if (contentType !== undefined && contentType.length >= EVENT_STREAM_TYPE.length && EVENT_STREAM.test(contentType)) entry.protocol = 'sse'
    if (this.log.limits.bodyBytes > 0) entry.captureResponseBody(this.expected(length))
  }

  /** A chunk of the response's body on its way to the client. */
  body(chunk: Buffer): void {
    const {entry} = this
    if (!this.current) return
    entry.bytesOut += chunk.length
    const capture = entry.responseBody
    if (capture !== undefined) capture.add(chunk, capture.keptBytes < this.log.limits.bodyBytes ? this.log.reserve(entry, capture, chunk.length) : 0, entry.slabs)
  }

  /** Completes the entry when the response is over, however it ends (see `closed`). */
  endWith(response: ServerResponse): void {
    response.on('close', () => this.closed(response))
  }

  /** The response is over, however it ended: the entry's status is the one sent, if any, the proxy's own answers' included. */
  closed(response: ServerResponse): void {
    this.end(response.headersSent ? response.statusCode : null)
  }

  /** The request ended without a response through node:http (an upgrade): `status` is what was answered, if anything. */
  end(status: number | null): void {
    if (!this.current) return
    this.entry.status ??= status
    this.log.complete(this.entry)
  }

  /**
   * Bytes a response body of `length` will keep, if nothing else needs the memory: its capture takes
   * room for them at once. Only the upstream's word is taken for it: a visitor's Content-Length on a
   * body that never comes would hold room the memory cap does not count.
   */
  private expected(length: number | undefined): number {
    return length === undefined ? 0 : Math.min(length, this.log.limits.bodyBytes)
  }

  /** The entry is still this request's. */
  private get current(): boolean {
    return this.entry.sequence === this.sequence
  }
}
