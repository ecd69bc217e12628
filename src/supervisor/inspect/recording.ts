import type {ServerResponse} from 'node:http'
import type {Readable} from 'node:stream'
import {firstHeader} from '../proxy/forwarding.js'
import {BodyCapture} from './body-capture.js'
import {type Entry, joinLines, type RequestLog} from './request-log.js'

const EVENT_STREAM = /^\s*text\/event-stream/i

/**
 * The proxy's tap on one request: counts and copies what passes into the request's entry. Each call
 * is a few assignments; body bytes are copied only while the entry and the log have room for them.
 */
export class Recording {
  constructor(
    private readonly log: RequestLog,
    readonly entry: Entry,
  ) {}

  /** Counts the request's body as it streams to the upstream, keeping its first bytes. Attach it in the tick that starts the upload. */
  tapRequestBody(body: Readable): void {
    const {entry, log} = this
    const capture = log.limits.bodyBytes > 0 ? (entry.requestBody = new BodyCapture()) : undefined
    body.on('data', (chunk: Buffer) => {
      entry.bytesIn += chunk.length
      capture?.add(chunk, log.reserve(entry, capture, chunk.length), entry.slabs)
    })
    if (capture) body.once('end', () => log.seal(entry, capture))
  }

  /** The response's head, as the upstream sent it. */
  head(status: number, lines: string[]): void {
    const {entry} = this
    entry.status = status
    entry.firstByteMs = entry.elapsedMs()
    const before = entry.responseHead.length
    entry.responseHead = joinLines(lines)
    this.log.grow(entry, entry.responseHead.length - before)
    const contentType = firstHeader(lines, 'content-type')
    if (contentType !== undefined && EVENT_STREAM.test(contentType)) entry.protocol = 'sse'
    if (this.log.limits.bodyBytes > 0) entry.responseBody = new BodyCapture()
  }

  /** A chunk of the response's body on its way to the client. */
  body(chunk: Buffer): void {
    const {entry} = this
    entry.bytesOut += chunk.length
    const capture = entry.responseBody
    if (capture !== undefined) capture.add(chunk, capture.keptBytes < this.log.limits.bodyBytes ? this.log.reserve(entry, capture, chunk.length) : 0, entry.slabs)
  }

  /** Completes the entry when the response is over, however it ends: its status is the one sent, if any, the proxy's own answers' included. */
  endWith(response: ServerResponse): void {
    response.once('close', () => {
      this.entry.status ??= response.headersSent ? response.statusCode : null
      this.log.complete(this.entry)
    })
  }

  /** The request ended without a response through node:http (an upgrade): `status` is what was answered, if anything. */
  end(status: number | null): void {
    this.entry.status ??= status
    this.log.complete(this.entry)
  }
}
