import type {CapturedBody} from '../../protocol/requests.js'

/**
 * The first bytes of one body, copied out of the chunks as they pass: the chunks themselves go on
 * and are never held. The copy is a latin1 string, which holds each byte as it is: a string is made
 * in V8's heap without the allocation and bookkeeping of a buffer of its own, and a slice of the
 * chunk, or of Buffer's shared pool, would hold on to all of it.
 */
export class BodyCapture {
  /** Bytes of the body seen. */
  size = 0
  /** Its bytes were let go under the memory cap: it keeps no more, which would read as the body's start. */
  released = false
  private kept = ''

  /** Counts `chunk` and keeps its first `granted` bytes. */
  add(chunk: Buffer, granted: number): void {
    this.size += chunk.length
    if (granted > 0) this.kept += chunk.toString('latin1', 0, granted)
  }

  /** Bytes kept. */
  get keptBytes(): number {
    return this.kept.length
  }

  /** Lets go of the kept bytes; returns how many there were. What was seen is still counted, as truncated. */
  release(): number {
    const {length} = this.kept
    this.kept = ''
    this.released = true
    return length
  }

  get truncated(): boolean {
    return this.kept.length < this.size
  }

  bytes(): Buffer {
    return Buffer.from(this.kept, 'latin1')
  }

  toCaptured(): CapturedBody {
    return {base64: this.bytes().toString('base64'), size: this.size, truncated: this.truncated}
  }
}
