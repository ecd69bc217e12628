/** Where a body's kept bytes begin: a slab and the offset in it. */
export interface Placement {
  slab: Buffer
  offset: number
}

/** A source's first slab; each next one is twice the last, up to SLAB_BYTES: a quiet source holds little. */
const FIRST_SLAB_BYTES = 2048
const SLAB_BYTES = 32 * 1024
/** Larger bodies get a buffer of their own: in a slab, they would leave too much of its end unused. */
const OWN_BUFFER_BYTES = SLAB_BYTES / 8

/**
 * One source's kept bodies (or, inside its HeadStore, its complete requests' heads), outside V8's heap,
 * packed into shared slabs, each at its own offset, bodies copied there straight from the chunks:
 * tens of thousands of small bodies then neither grow the heap (whose collector keeps room to spare
 * in proportion, and which the copies would fill with garbage) nor cost a buffer each. Buffer's own
 * pool is not used: a slice of it holds on to bytes others let go.
 *
 * Each placement is given back once its bytes are let go; a slab whose placements are all given back
 * is taken again for the next bodies, since a busy source lets go of its oldest as fast as new ones
 * come, and a new buffer for each slab would have V8 collect its heap for their memory outside it.
 */
export class BodySlabs {
  private slab: Buffer | undefined
  private used = 0
  /** Placements not given back, per slab. */
  private readonly taken = new Map<Buffer, number>()
  /** A slab whose placements all were given back, to be written again. */
  private spare: Buffer | undefined

  /** Room for `length` bytes of a new body, until `giveBack(slab)`. */
  take(length: number): Placement {
    if (length > OWN_BUFFER_BYTES) return {slab: Buffer.allocUnsafeSlow(length), offset: 0}
    if (this.slab === undefined || this.used + length > this.slab.length) this.next(length)
    const slab = this.slab!
    const offset = this.used
    this.used += length
    this.taken.set(slab, (this.taken.get(slab) ?? 0) + 1)
    return {slab, offset}
  }

  /** Whether the body whose bytes end at `end` of `slab` may grow there by `length`: nothing came after it, and it fits. Taken if so. */
  extend(slab: Buffer, end: number, length: number): boolean {
    if (slab !== this.slab || end !== this.used || end + length > slab.length) return false
    this.used += length
    return true
  }

  /** One more holder of a placement in `slab`, who gives it back as well. */
  share(slab: Buffer): void {
    const count = this.taken.get(slab)
    if (count !== undefined) this.taken.set(slab, count + 1)
  }

  /** A placement in `slab` is let go: its bytes are read no more. */
  giveBack(slab: Buffer): void {
    const count = this.taken.get(slab)
    if (count === undefined) return

    if (count > 1) return void this.taken.set(slab, count - 1)
    this.taken.delete(slab)
    if (slab === this.slab) this.used = 0
    else if (slab.length === SLAB_BYTES) this.spare = slab
  }

  private next(length: number): void {
    const size = Math.max(length, this.slab === undefined ? FIRST_SLAB_BYTES : Math.min(SLAB_BYTES, this.slab.length * 2))
    if (this.spare !== undefined && this.spare.length >= size) {
      this.slab = this.spare
      this.spare = undefined
    } else {
      this.slab = Buffer.allocUnsafeSlow(size)
    }

    this.used = 0
  }
}
