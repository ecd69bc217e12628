import {describe, expect, it} from 'vitest'
import {BodyCapture} from '../../src/supervisor/inspect/body-capture.js'
import {BodySlabs} from '../../src/supervisor/inspect/body-slabs.js'

describe('BodyCapture', () => {
  it('takes room for a body of a known length with its first chunk, so that its next follows in place after another body came between', () => {
    const slabs = new BodySlabs()
    const known = new BodyCapture().reset(slabs, 100)
    const other = new BodyCapture().reset(slabs, 0)
    known.add(Buffer.alloc(50, 1), 50, slabs)
    other.add(Buffer.alloc(30, 2), 30, slabs)
    known.add(Buffer.alloc(50, 3), 50, slabs)
    const kept = known.bytes()
    expect(kept.equals(Buffer.concat([Buffer.alloc(50, 1), Buffer.alloc(50, 3)]))).toBe(true)
    expect(kept.buffer, 'its bytes in the one slab, not joined from a rest kept aside').toBe(other.bytes().buffer)
    expect(other.bytes().equals(Buffer.alloc(30, 2))).toBe(true)
  })

  it('keeps the chunks of a body of unknown length whole when another body came between', () => {
    const slabs = new BodySlabs()
    const unknown = new BodyCapture().reset(slabs, 0)
    const other = new BodyCapture().reset(slabs, 0)
    unknown.add(Buffer.alloc(50, 1), 50, slabs)
    other.add(Buffer.alloc(30, 2), 30, slabs)
    unknown.add(Buffer.alloc(50, 3), 50, slabs)
    unknown.add(Buffer.alloc(20, 4), 20, slabs)
    unknown.seal(slabs)
    expect(unknown.bytes().equals(Buffer.concat([Buffer.alloc(50, 1), Buffer.alloc(50, 3), Buffer.alloc(20, 4)]))).toBe(true)
    expect(other.bytes().equals(Buffer.alloc(30, 2))).toBe(true)
  })
})
