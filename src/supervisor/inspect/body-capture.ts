import type {CapturedBody} from '../../protocol/requests.js'

/** The first bytes of one body, copied out of the chunks as they pass: the chunks themselves go on and are never held. */
export class BodyCapture {
  /** Bytes of the body seen. */
  size = 0
  /** Bytes kept. */
  kept = 0
  private chunks: Buffer[] = []

  /** Counts `chunk` and keeps its first `granted` bytes. */
  add(chunk: Buffer, granted: number): void {
    this.size += chunk.length
    if (granted <= 0) return
    // A buffer of its own: a slice of the chunk, or of Buffer's shared pool, would hold on to all of it.
    const copy = Buffer.allocUnsafeSlow(granted)
    chunk.copy(copy, 0, 0, granted)
    this.chunks.push(copy)
    this.kept += granted
  }

  /** Lets go of the kept bytes; returns how many there were. What was seen is still counted, as truncated. */
  release(): number {
    const {kept} = this
    this.chunks = []
    this.kept = 0
    return kept
  }

  get truncated(): boolean {
    return this.kept < this.size
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0] ?? Buffer.alloc(0)
  }

  toCaptured(): CapturedBody {
    return {base64: this.bytes().toString('base64'), size: this.size, truncated: this.truncated}
  }
}
