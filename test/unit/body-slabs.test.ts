import {describe, expect, it} from 'vitest'
import {BodySlabs, type Slab} from '../../src/supervisor/inspect/body-slabs.js'

describe('BodySlabs', () => {
  it('takes a full slab again only once every placement in it was given back', () => {
    const slabs = new BodySlabs()
    const first = slabs.take(1500)
    const second = slabs.take(500)
    expect(second.slab).toBe(first.slab)
    // Past the first slab (2 KiB), then past the second (4 KiB): a third, of 8 KiB.
    const third = slabs.take(3000)
    const fourth = slabs.take(3000)
    expect(new Set([first.slab, third.slab, fourth.slab]).size).toBe(3)
    slabs.giveBack(first.slab)
    expect(slabs.take(8000).slab).not.toBe(first.slab)
  })

  it('takes slabs again as bodies are let go, never overwriting a body still kept', () => {
    const slabs = new BodySlabs()
    const kept: {slab: Slab; offset: number; bytes: Buffer}[] = []
    const seen = new Set<Buffer>()
    let seed = 1
    const random = (below: number) => (seed = (seed * 48_271) % 2_147_483_647) % below
    for (let round = 0; round < 20_000; round++) {
      const bytes = Buffer.alloc(1 + random(2000), round % 256)
      const placement = slabs.take(bytes.length)
      bytes.copy(placement.slab.bytes, placement.offset)
      kept.push({...placement, bytes})
      seen.add(placement.slab.bytes)
      // About twenty kept at a time, the oldest let go first as a ring does, now and then one from the middle.
      while (kept.length > 20) {
        const [gone] = kept.splice(random(4) === 0 ? random(kept.length) : 0, 1)
        slabs.giveBack(gone.slab)
      }

      for (const {slab, offset, bytes: expected} of kept) expect(slab.bytes.subarray(offset, offset + expected.length).equals(expected), `round ${round}`).toBe(true)
    }

    expect(seen.size, 'slabs made for 20,000 bodies, twenty kept at a time').toBeLessThan(50)
  })

  it("gives a source's first large body a slab near its size, and larger slabs as more come", () => {
    const slabs = new BodySlabs()
    expect(slabs.take(5000).slab.bytes.length, 'the first slab of a source with one large head').toBeLessThan(16 * 1024)
    const later = Array.from({length: 12}, () => slabs.take(60_000).slab.bytes.length)
    expect(later.at(-1), 'room for four 64 KiB bodies once they come one after another').toBe(256 * 1024)
  })

  it('gives a body larger than a quarter of a large slab a buffer of its own, which no other body shares or takes again', () => {
    const slabs = new BodySlabs()
    const own = slabs.take(100_000)
    expect(own.slab.bytes.length).toBe(100_000)
    expect(slabs.extend(own.slab, 100_000, 1), 'nothing grows into it').toBe(false)
    slabs.giveBack(own.slab)
    const next = [slabs.take(100), slabs.take(10_000), slabs.take(100_000)]
    for (const {slab} of next) expect(slab.bytes).not.toBe(own.slab.bytes)
  })
})
