import type {CapturedBody} from '../../protocol/requests.js'
import {type BodySlabs, Slab} from './body-slabs.js'

/** No slab: a capture that keeps nothing yet. */
const NOTHING = new Slab(Buffer.alloc(0))

/**
 * The first bytes of one body, copied out of the chunks as they pass (the chunks themselves go on
 * and are never held) into its source's slabs, off the heap. A body of a known length takes room
 * for all it may keep with its first chunk. Otherwise, a body whose next chunk cannot follow its
 * bytes in place (another body's came between) keeps the rest as a latin1 string, which holds each
 * byte as it is, until it is sealed: its bytes then move together again.
 */
export class BodyCapture {
  /** Bytes of the body seen. */
  size = 0
  /** It keeps no more: sealed, or its bytes let go under the memory cap (more would then read as the body's start). */
  closed = false
  private slab: Slab = NOTHING
  private offset = 0
  private length = 0
  /** Bytes of the slab from `offset` that are its own. */
  private room = 0
  /** Bytes it expects to keep, taken with the first chunk. */
  private expected = 0
  private rest = ''

  /** Counts `chunk` and keeps its first `granted` bytes, in `slabs`. */
  add(chunk: Buffer, granted: number, slabs: BodySlabs): void {
    this.size += chunk.length
    if (granted === 0) return
    if (this.room === 0) {
      this.room = Math.max(granted, this.expected)
      ;({slab: this.slab, offset: this.offset} = slabs.take(this.room))
    } else if (!this.fits(granted, slabs)) {
      this.rest += chunk.toString('latin1', 0, granted)
      return
    }

    chunk.copy(this.slab.bytes, this.offset + this.length, 0, granted)
    this.length += granted
  }

  /** Whether `granted` more bytes can follow its own in place: within its room, or with room taken right after it. */
  private fits(granted: number, slabs: BodySlabs): boolean {
    if (this.rest !== '') return false
    const more = this.length + granted - this.room
    if (more <= 0) return true
    if (!slabs.extend(this.slab, this.offset + this.room, more)) return false
    this.room += more
    return true
  }

  /** Bytes kept. */
  get keptBytes(): number {
    return this.length + this.rest.length
  }

  /** It has all it will keep: a rest moves to `slabs` with the bytes before it. */
  seal(slabs: BodySlabs): void {
    this.closed = true
    if (this.rest === '') return
    const whole = this.length + this.rest.length
    const {slab, offset} = slabs.take(whole)
    this.slab.bytes.copy(slab.bytes, offset, this.offset, this.offset + this.length)
    slab.bytes.write(this.rest, offset + this.length, 'latin1')
    slabs.giveBack(this.slab)
    this.slab = slab
    this.offset = offset
    this.length = whole
    this.room = whole
    this.rest = ''
  }

  /** Makes it a capture of a new body, which expects to keep `expected` bytes. */
  reset(slabs: BodySlabs, expected: number): this {
    this.release(slabs)
    this.size = 0
    this.closed = false
    this.expected = expected
    return this
  }

  /** Lets go of the kept bytes, giving their place back to `slabs`; returns how many there were. What was seen is still counted, as truncated. */
  release(slabs: BodySlabs): number {
    const released = this.keptBytes
    if (this.slab !== NOTHING) slabs.giveBack(this.slab)
    this.closed = true
    this.slab = NOTHING
    this.offset = 0
    this.length = 0
    this.room = 0
    this.rest = ''
    return released
  }

  get truncated(): boolean {
    return this.keptBytes < this.size
  }

  /** The kept bytes: once sealed, a view of its slab, valid until they are released. */
  bytes(): Buffer {
    const start = this.slab.bytes.subarray(this.offset, this.offset + this.length)
    return this.rest === '' ? start : Buffer.concat([start, Buffer.from(this.rest, 'latin1')])
  }

  toCaptured(): CapturedBody {
    return {base64: this.bytes().toString('base64'), size: this.size, truncated: this.truncated}
  }
}
