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
 * One source's kept bodies (or its complete requests' heads: one BodySlabs each), outside V8's heap,
 * packed into shared slabs, each at its own offset, bodies copied there straight from the chunks:
 * tens of thousands of small bodies then neither grow the heap (whose collector keeps room to spare
 * in proportion, and which the copies would fill with garbage) nor cost a buffer each. A source's
 * bodies, and its heads, are let go in about the order they came, so a slab is freed soon after its
 * last one is, once nothing refers to it. A slab's bytes are never written twice. Buffer's own pool
 * is not used: a slice of it holds on to bytes others let go.
 */
export class BodySlabs {
  private slab: Buffer | undefined
  private used = 0

  /** Room for `length` bytes of a new body. */
  take(length: number): Placement {
    if (length > OWN_BUFFER_BYTES) return {slab: Buffer.allocUnsafeSlow(length), offset: 0}
    if (this.slab === undefined || this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(length, this.slab === undefined ? FIRST_SLAB_BYTES : Math.min(SLAB_BYTES, this.slab.length * 2)))
      this.used = 0
    }

    const offset = this.used
    this.used += length
    return {slab: this.slab, offset}
  }

  /** Whether the body whose bytes end at `end` of `slab` may grow there by `length`: nothing came after it, and it fits. Taken if so. */
  extend(slab: Buffer, end: number, length: number): boolean {
    if (slab !== this.slab || end !== this.used || end + length > slab.length) return false
    this.used += length
    return true
  }
}
