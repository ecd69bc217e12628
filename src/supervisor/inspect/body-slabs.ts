/** A buffer that holds the bytes of several bodies, and how many of them it still holds. */
export class Slab {
  /** Placements not given back: a count of its own, where a map from buffers to counts cost a lookup per body. */
  taken = 0

  constructor(
    readonly bytes: Buffer,
    /** The series it was made for, which takes it again once emptied; none for a body's own buffer. */
    readonly series?: SlabSeries,
  ) {}
}

/** Where a body's kept bytes begin: a slab and the offset in it. */
export interface Placement {
  slab: Slab
  offset: number
}

/** A source's first slab; each next one is twice the last, up to SLAB_BYTES: a quiet source holds little. */
const FIRST_SLAB_BYTES = 2048
const SLAB_BYTES = 32 * 1024
/** Larger bodies go to slabs of their own size class: among small ones, they would leave too much of a slab's end unused. */
const LARGE_BODY_BYTES = SLAB_BYTES / 8
/** The same for large bodies, up to room for four of inspect.bodyBytes' default (64 KiB) each. */
const FIRST_LARGE_SLAB_BYTES = 2 * LARGE_BODY_BYTES
const LARGE_SLAB_BYTES = 256 * 1024
/** Larger still (inspect.bodyBytes raised) gets a buffer of its own. */
const OWN_BUFFER_BYTES = LARGE_SLAB_BYTES / 4

/**
 * One source's kept bodies (or, inside its HeadStore, its complete requests' heads), outside V8's heap,
 * packed into shared slabs, each at its own offset, bodies copied there straight from the chunks:
 * tens of thousands of small bodies then neither grow the heap (whose collector keeps room to spare
 * in proportion, and which the copies would fill with garbage) nor cost a buffer each. Buffer's own
 * pool is not used: a slice of it holds on to bytes others let go.
 *
 * Each placement is given back once its bytes are let go; a slab whose placements are all given back
 * is taken again for the next bodies, since a busy source lets go of its oldest as fast as new ones
 * come, and a new buffer for each slab (or each large body) would have V8 collect its whole heap as
 * often as their memory outside it adds up.
 */
export class BodySlabs {
  private readonly small = new SlabSeries(FIRST_SLAB_BYTES, SLAB_BYTES, new SparePool(1))
  private readonly large = new SlabSeries(FIRST_LARGE_SLAB_BYTES, LARGE_SLAB_BYTES, LARGE_SPARES)

  /** Room for `length` bytes of a new body, until `giveBack(slab)`. */
  take(length: number): Placement {
    const placement = length > OWN_BUFFER_BYTES ? {slab: new Slab(Buffer.allocUnsafeSlow(length)), offset: 0} : (length > LARGE_BODY_BYTES ? this.large : this.small).take(length)
    placement.slab.taken++
    return placement
  }

  /** Whether the body whose bytes end at `end` of `slab` may grow there by `length`: nothing came after it, and it fits. Taken if so. */
  extend(slab: Slab, end: number, length: number): boolean {
    return slab.series !== undefined && slab.series.extend(slab, end, length)
  }

  /** One more holder of a placement in `slab`, who gives it back as well. */
  share(slab: Slab): void {
    slab.taken++
  }

  /** A placement in `slab` is let go: its bytes are read no more. */
  giveBack(slab: Slab): void {
    if (--slab.taken === 0) slab.series?.emptied(slab)
  }
}

/** Emptied slabs of one size, up to `most` of them. */
class SparePool {
  private readonly slabs: Buffer[] = []

  constructor(private readonly most: number) {}

  keep(slab: Buffer): void {
    if (this.slabs.length < this.most) this.slabs.push(slab)
  }

  take(): Buffer | undefined {
    return this.slabs.pop()
  }
}

/**
 * Emptied large slabs kept to be written again, for every source at once: a ring drops its oldest
 * request as each new one comes in, but its body comes later, so a source holds as many emptied slabs
 * as it has large bodies under way, over four. Shared, so that sources gone quiet hold none.
 */
const LARGE_SPARES = new SparePool(16)

/** Slabs filled one after another, emptied ones kept in `spares` to be written again. */
class SlabSeries {
  private slab: Slab | undefined
  private used = 0

  constructor(
    private readonly firstBytes: number,
    private readonly slabBytes: number,
    private readonly spares: SparePool,
  ) {}

  take(length: number): Placement {
    if (this.slab === undefined || this.used + length > this.slab.bytes.length) this.next(length)
    const offset = this.used
    this.used += length
    return {slab: this.slab!, offset}
  }

  extend(slab: Slab, end: number, length: number): boolean {
    if (slab !== this.slab || end !== this.used || end + length > slab.bytes.length) return false
    this.used += length
    return true
  }

  /** Every placement in `slab` was given back. */
  emptied(slab: Slab): void {
    if (slab === this.slab) this.used = 0
    else if (slab.bytes.length === this.slabBytes) this.spares.keep(slab.bytes)
  }

  /** A slab for a placement of `length`, which is never more than a full slab. */
  private next(length: number): void {
    const size = Math.max(length, this.slab === undefined ? this.firstBytes : Math.min(this.slabBytes, this.slab.bytes.length * 2))
    this.slab = new Slab(this.spares.take() ?? Buffer.allocUnsafeSlow(size), this)
    this.used = 0
  }
}
