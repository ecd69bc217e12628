import {describe, expect, it} from 'vitest'
import type {Slab} from '../../src/supervisor/inspect/body-slabs.js'
import {HeadStore, type StoredHeads} from '../../src/supervisor/inspect/head-store.js'

interface Kept {
  slab: Slab
  offset: number
  length: number
  text: string
}

function keep(stored: StoredHeads, text: string): Kept {
  return {slab: stored.slab, offset: stored.offset, length: stored.pathLength + stored.requestLength + stored.responseLength, text}
}

const read = ({slab, offset, length}: Kept) => slab.bytes.toString('latin1', offset, offset + length)

describe('HeadStore', () => {
  it('shares the bytes of a request like the last one, and keeps others apart', () => {
    const heads = new HeadStore()
    const first = keep(heads.store('/a', ['host', 'x'], ['date', 'd1'], undefined), '/ahost\nxdate\nd1')
    const same = keep(heads.store('/a', ['host', 'x'], ['date', 'd1'], undefined), '/ahost\nxdate\nd1')
    const other = keep(heads.store('/a', ['host', 'x'], ['date', 'd2'], undefined), '/ahost\nxdate\nd2')
    expect([same.slab, same.offset]).toEqual([first.slab, first.offset])
    expect(other.offset).not.toBe(first.offset)
    for (const kept of [first, same, other]) expect(read(kept)).toBe(kept.text)
  })

  it('tells a response head read by the proxy from the last by its text as it came', () => {
    const heads = new HeadStore()
    const raw = 'HTTP/1.1 200 OK\r\ndate: d1'
    const first = keep(heads.store('/a', ['host', 'x'], ['date', 'd1'], raw), '/ahost\nxdate\nd1')
    const same = keep(heads.store('/a', ['host', 'x'], ['date', 'd1'], `${raw}`), '/ahost\nxdate\nd1')
    // Lines alike, but a head that came otherwise (its status) is another.
    const other = keep(heads.store('/a', ['host', 'x'], ['date', 'd1'], 'HTTP/1.1 404 Not Found\r\ndate: d1'), '/ahost\nxdate\nd1')
    expect([same.slab, same.offset]).toEqual([first.slab, first.offset])
    expect(other.offset).not.toBe(first.offset)
    for (const kept of [first, same, other]) expect(read(kept)).toBe(kept.text)
  })

  it('keeps shared bytes while a holder or the next request may still read them, as requests come and go', () => {
    const heads = new HeadStore()
    const kept: Kept[] = []
    let seed = 7
    const random = (below: number) => (seed = (seed * 48_271) % 2_147_483_647) % below
    for (let round = 0; round < 20_000; round++) {
      // Runs of like requests, as a polling client sends them, between others of every size.
      const n = random(3) === 0 ? round : Math.floor(round / 10)
      const path = `/p${n}`
      const requestLines = ['x-n', 'v'.repeat(n % 3000)]
      const responseLines = ['x-r', String(n)]
      const responseRaw = random(2) === 0 ? undefined : `HTTP/1.1 200 OK\r\nx-r: ${n}`
      kept.push(keep(heads.store(path, requestLines, responseLines, responseRaw), `${path}${requestLines.join('\n')}${responseLines.join('\n')}`))
      // A ring of up to ten, the oldest given back first; at times all are, before the next request is stored.
      while (kept.length > random(10)) heads.giveBack(kept.shift()!.slab)
      for (const entry of kept) expect(read(entry), `round ${round}`).toBe(entry.text)
    }
  })
})
