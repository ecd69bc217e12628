import {BodySlabs, Slab} from './body-slabs.js'

/** Where a complete request's path, request head and response head are kept, one after the other. */
export interface StoredHeads {
  readonly slab: Slab
  readonly offset: number
  readonly pathLength: number
  readonly requestLength: number
  readonly responseLength: number
}

/**
 * One source's complete requests' paths and heads, off the heap, header lines joined by newlines
 * (which neither names nor values may hold). A request whose path and heads are those of the last
 * one stored (a client polling, a health check, a load test) shares its bytes: most of what
 * recording a request costs is joining and copying its heads.
 */
export class HeadStore implements StoredHeads {
  private readonly slabs = new BodySlabs()
  slab = new Slab(Buffer.alloc(0))
  offset = 0
  pathLength = 0
  requestLength = 0
  responseLength = 0
  private path: string | undefined
  private requestLines: string[] = []
  private responseLines: string[] = []
  private responseRaw: string | undefined

  /**
   * Keeps them; what it returns is read at once (the next call changes it), and given back with
   * giveBack once the request is dropped. `responseRaw`, the response's head as it came, if known,
   * tells it from the last in one comparison instead of one per line.
   */
  store(path: string, requestLines: string[], responseLines: string[], responseRaw: string | undefined): StoredHeads {
    const sameResponse = responseRaw === undefined ? sameLines(responseLines, this.responseLines) : responseRaw === this.responseRaw
    if (path === this.path && sameResponse && sameLines(requestLines, this.requestLines)) {
      this.slabs.share(this.slab)
      return this
    }

    const request = requestLines.join('\n')
    const response = responseLines.join('\n')
    const {slab, offset} = this.slabs.take(path.length + request.length + response.length)
    slab.bytes.write(path + request + response, offset, 'latin1')
    // The last stored keeps a share of its own, so that its bytes stay while a next request may share them.
    this.slabs.share(slab)
    if (this.path !== undefined) this.slabs.giveBack(this.slab)
    this.slab = slab
    this.offset = offset
    this.pathLength = path.length
    this.requestLength = request.length
    this.responseLength = response.length
    this.path = path
    this.requestLines = requestLines
    this.responseLines = responseLines
    this.responseRaw = responseRaw
    return this
  }

  giveBack(stored: Slab): void {
    this.slabs.giveBack(stored)
  }
}

function sameLines(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
}
