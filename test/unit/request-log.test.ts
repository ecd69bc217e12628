import {describe, expect, it, vi} from 'vitest'
import type {RequestSource} from '../../src/protocol/requests.js'
import {parseRecordedRequest, parseRequestsQuery} from '../../src/protocol/requests.js'
import {ENTRY_BYTES, RequestLog, type RequestLogLimits} from '../../src/supervisor/inspect/request-log.js'
import type {Recording} from '../../src/supervisor/inspect/recording.js'
import {PassThrough} from 'node:stream'

const A: RequestSource = {kind: 'endpoint', id: 'aaaaaaaa'}
const B: RequestSource = {kind: 'tunnel', port: 3000}

/** What maxMemory counts for an entry of `exchange` (path "/", no request headers, a text/plain answer) besides its bodies. */
const RESPONSE_HEAD = 'content-type\ntext/plain'.length
const EXCHANGE_ENTRY = ENTRY_BYTES + '/'.length + '127.0.0.1'.length + RESPONSE_HEAD

function log(limits: Partial<RequestLogLimits> = {}): RequestLog {
  return new RequestLog({keep: 500, bodyBytes: 64 * 1024, maxMemory: 64 * 1024 * 1024, ...limits})
}

function start(requests: RequestLog, source: RequestSource, path = '/', headerLines: string[] = []): Recording {
  return requests.record({source, method: 'POST', path, visitor: '127.0.0.1', protocol: 'http', headerLines})
}

/** A request whose body of `size` bytes has passed the tap, answered 200 with `responseSize` bytes. */
async function exchange(requests: RequestLog, source: RequestSource, size: number, responseSize = 0, path = '/'): Promise<Recording> {
  const recording = start(requests, source, path)
  const body = new PassThrough()
  recording.tapRequestBody(body)
  body.end(Buffer.alloc(size, 1))
  for await (const _chunk of body) {
    // Drained: the tap has seen every chunk.
  }

  recording.head({status: 200, lines: ['content-type', 'text/plain']})
  if (responseSize > 0) recording.body(Buffer.alloc(responseSize, 2))
  recording.end(null)
  return recording
}

describe('RequestLog', () => {
  it('keeps inspect.keep requests per source, dropping the oldest of that source only', async () => {
    const requests = log({keep: 3})
    for (let n = 1; n <= 5; n++) await exchange(requests, A, 0, 0, `/a${n}`)
    await exchange(requests, B, 0, 0, '/b1')
    expect(requests.list({source: A}).map((entry) => entry.path)).toEqual(['/a3', '/a4', '/a5'])
    expect(requests.list({source: B}).map((entry) => entry.path)).toEqual(['/b1'])
    expect(requests.list().map((entry) => entry.path)).toEqual(['/a3', '/a4', '/a5', '/b1'])
    expect(requests.list({limit: 2}).map((entry) => entry.path)).toEqual(['/a5', '/b1'])
    expect(requests.count(A)).toBe(3)
    expect(requests.get(requests.list({source: A})[0].id)).toBeDefined()
  })

  it("takes a full ring's oldest complete entry for the next request, which the older request's late calls no longer touch", async () => {
    const requests = log({keep: 1})
    const first = await exchange(requests, A, 0, 5, '/first')
    const second = start(requests, A, '/second')
    first.body(Buffer.alloc(7, 3))
    first.end(500)
    second.head({status: 201, lines: ['content-type', 'text/plain']})
    second.body(Buffer.alloc(2, 4))
    second.end(null)
    expect(requests.get(first.id)).toBeUndefined()
    expect(requests.get(second.id)).toMatchObject({path: '/second', status: 201, bytesOut: 2, responseBody: {base64: Buffer.alloc(2, 4).toString('base64'), size: 2, truncated: false}})
  })

  it('lets a request dropped while under way finish on its own entry', async () => {
    const requests = log({keep: 1})
    const long = start(requests, A, '/events')
    long.head({status: 200, lines: ['content-type', 'text/event-stream']})
    const next = await exchange(requests, A, 0, 3, '/next')
    long.body(Buffer.alloc(4))
    long.end(null)
    expect(requests.list({source: A}).map((entry) => entry.path)).toEqual(['/next'])
    expect(requests.get(next.id)).toMatchObject({status: 200, bytesOut: 3})
  })

  it('records a source anew after forgetting it, passed the same source object', async () => {
    const requests = log()
    await exchange(requests, A, 0, 0, '/before')
    requests.forget(A)
    await exchange(requests, A, 0, 0, '/after')
    expect(requests.count(A)).toBe(1)
    expect(requests.list({source: A}).map((entry) => entry.path)).toEqual(['/after'])
  })

  it('keeps the newest requests whole while the places of the dropped ones are taken again', async () => {
    const requests = log({keep: 3})
    const recordings: Recording[] = []
    for (let n = 0; n < 300; n++) {
      const recording = requests.record({source: A, method: 'PUT', path: `/item/${n}`, visitor: '127.0.0.1', protocol: 'http', headerLines: ['x-n', String(n)]})
      const body = new PassThrough()
      recording.tapRequestBody(body)
      body.end(Buffer.alloc(10 + (n % 50), n % 256))
      for await (const _chunk of body) {
        // Drained: the tap has seen every chunk.
      }

      recording.head({status: 200, lines: ['x-answer', `a${n}`]})
      recording.body(Buffer.alloc(5 + (n % 30), (n + 1) % 256))
      recording.end(null)
      recordings.push(recording)
    }

    for (const n of [297, 298, 299]) {
      const recorded = requests.get(recordings[n].id)!
      expect(recorded).toMatchObject({path: `/item/${n}`, requestHeaders: [['x-n', String(n)]], responseHeaders: [['x-answer', `a${n}`]]})
      expect(Buffer.from(recorded.requestBody!.base64, 'base64').equals(Buffer.alloc(10 + (n % 50), n % 256)), `request body ${n}`).toBe(true)
      expect(Buffer.from(recorded.responseBody!.base64, 'base64').equals(Buffer.alloc(5 + (n % 30), (n + 1) % 256)), `response body ${n}`).toBe(true)
    }
  })

  it('keeps 64 KiB answers, fifty under way at once, in slabs taken again rather than a buffer each', () => {
    const requests = log({keep: 100})
    const made = vi.spyOn(Buffer, 'allocUnsafeSlow')
    try {
      const answers = 2000
      const underWay = 50
      const bodyOf = (n: number) => Buffer.alloc(64 * 1024, n % 256)
      const recordings: Recording[] = []
      for (let first = 0; first < answers; first += underWay) {
        const batch = Array.from({length: underWay}, (_, k) => requests.record({source: A, method: 'GET', path: `/${first + k}`, visitor: '127.0.0.1', protocol: 'http', headerLines: []}))
        for (const recording of batch) recording.head({status: 200, lines: ['content-length', String(64 * 1024)], length: 64 * 1024})
        // Each body in two chunks, the chunks of the fifty in turn, as fifty connections' reads come.
        for (const [k, recording] of batch.entries()) recording.body(bodyOf(first + k).subarray(0, 30_000))
        for (const [k, recording] of batch.entries()) recording.body(bodyOf(first + k).subarray(30_000))
        for (const recording of batch) recording.end(null)
        recordings.push(...batch)
      }

      // The ring's 100 bodies and the fifty under way, four to a slab, emptied ones taken again.
      expect(made.mock.calls.length, 'buffers made for 2000 answers of 64 KiB').toBeLessThan(50)
      for (const n of [answers - 100, answers - 51, answers - 1]) {
        const body = requests.get(recordings[n].id)!.responseBody!
        expect(Buffer.from(body.base64, 'base64').equals(bodyOf(n)), `answer ${n} kept whole`).toBe(true)
      }
    } finally {
      made.mockRestore()
    }
  })

  it('cuts each body at bodyBytes and counts what it saw', async () => {
    const requests = log({bodyBytes: 10})
    const entry = await exchange(requests, A, 25, 4)
    const recorded = requests.get(entry.id)!
    expect(recorded.requestBody).toEqual({base64: Buffer.alloc(10, 1).toString('base64'), size: 25, truncated: true})
    expect(recorded.responseBody).toEqual({base64: Buffer.alloc(4, 2).toString('base64'), size: 4, truncated: false})
    expect(recorded).toMatchObject({bytesIn: 25, bytesOut: 4, status: 200})
    expect(requests.heldBytes).toBe(14)
  })

  it('drops the oldest bodies first past maxMemory, and never more than it must', async () => {
    const requests = log({bodyBytes: 100, maxMemory: 3 * EXCHANGE_ENTRY + 250})
    const first = await exchange(requests, A, 100)
    const second = await exchange(requests, B, 100)
    expect(requests.heldBytes).toBe(200)
    const third = await exchange(requests, A, 100)
    expect(requests.heldBytes).toBe(200)
    expect(requests.get(first.id)!.requestBody).toEqual({base64: '', size: 100, truncated: true})
    expect(requests.get(second.id)!.requestBody!.truncated).toBe(false)
    expect(requests.get(third.id)!.requestBody!.truncated).toBe(false)
  })

  it('keeps nothing more of a body whose start was dropped under maxMemory', () => {
    const requests = log({bodyBytes: 100, maxMemory: 2 * (ENTRY_BYTES + '/slow'.length + '127.0.0.1'.length) + 100})
    const slow = start(requests, A, '/slow')
    slow.head({status: 200, lines: []})
    slow.body(Buffer.alloc(60, 1))
    const fast = start(requests, A, '/fast')
    fast.head({status: 200, lines: []})
    fast.body(Buffer.alloc(60, 2))
    slow.body(Buffer.alloc(10, 3))
    expect(requests.get(slow.id)!.responseBody).toEqual({base64: '', size: 70, truncated: true})
    expect(requests.get(fast.id)!.responseBody).toEqual({base64: Buffer.alloc(60, 2).toString('base64'), size: 60, truncated: false})
    expect(requests.heldBytes).toBe(60)
  })

  it('keeps what fits of a body larger than the whole cap', async () => {
    // Its response's head is counted when it comes, after the request's body.
    const requests = log({bodyBytes: 1000, maxMemory: 2 * EXCHANGE_ENTRY - RESPONSE_HEAD + 300})
    await exchange(requests, A, 200)
    const big = await exchange(requests, A, 1000)
    expect(requests.get(big.id)!.requestBody).toMatchObject({size: 1000, truncated: true})
    expect(decodedLength(requests.get(big.id)!.requestBody!.base64)).toBe(300)
    expect(requests.heldBytes).toBe(300)
  })

  it('gives back the memory of dropped and forgotten requests', async () => {
    const requests = log({keep: 2, bodyBytes: 50})
    for (let n = 0; n < 10; n++) await exchange(requests, A, 50)
    expect(requests.heldBytes).toBe(100)
    expect(requests.usedBytes).toBe(100 + 2 * EXCHANGE_ENTRY)
    requests.forget(A)
    expect(requests.heldBytes).toBe(0)
    expect(requests.usedBytes).toBe(0)
    expect(requests.list()).toEqual([])
    expect(requests.count(A)).toBe(0)
  })

  it('counts each entry under maxMemory with the bodies, and drops the oldest requests whole once their bodies are gone', async () => {
    const requests = log({bodyBytes: 100, maxMemory: 3 * EXCHANGE_ENTRY + 150})
    const first = await exchange(requests, A, 100)
    const second = await exchange(requests, B, 100)
    expect(requests.usedBytes).toBe(2 * EXCHANGE_ENTRY + 200)
    // The third entry and its body: the first's body goes, then the second's (100 + 100 do not fit in 150 beside 3 entries).
    const third = await exchange(requests, A, 100)
    expect(requests.get(first.id)!.requestBody).toEqual({base64: '', size: 100, truncated: true})
    expect(requests.get(second.id)!.requestBody).toEqual({base64: '', size: 100, truncated: true})
    expect(requests.get(third.id)!.requestBody!.truncated).toBe(false)
    expect(requests.usedBytes).toBe(3 * EXCHANGE_ENTRY + 100)

    // A fourth entry does not fit beside three even without bodies: the oldest request, of any source, goes whole.
    const fourth = await exchange(requests, B, 0)
    expect(requests.get(first.id)).toBeUndefined()
    expect(requests.list().map((entry) => entry.id)).toEqual([second.id, third.id, fourth.id])
    expect(requests.count(A)).toBe(1)
    expect(requests.usedBytes).toBeLessThanOrEqual(3 * EXCHANGE_ENTRY + 150)
    await expect(requests.replay(first.id)).rejects.toMatchObject({code: 'NOT_FOUND', message: expect.stringContaining('inspect.maxMemory')})
  })

  it('keeps bodies byte for byte whether they come in one chunk or several, between other bodies, small or large', () => {
    const requests = log({bodyBytes: 64 * 1024})
    const bodies = new Map<Recording, Buffer[]>()
    for (const [path, sizes] of [['/one', [700]], ['/split', [300, 200, 100]], ['/large', [5000, 20_000, 40_000]], ['/binary', [256]]] as const) {
      const recording = start(requests, A, path)
      recording.head({status: 200, lines: []})
      bodies.set(recording, sizes.map((size, n) => (path === '/binary' ? Buffer.from(Array.from({length: size}, (_, byte) => byte)) : Buffer.alloc(size, n + path.length))))
    }

    // Round robin: each next chunk of a body comes after the others' chunks.
    for (let round = 0; round < 3; round++) {
      for (const [recording, chunks] of bodies) if (chunks[round]) recording.body(chunks[round])
    }

    for (const [recording, chunks] of bodies) {
      recording.end(null)
      const whole = Buffer.concat(chunks).subarray(0, 64 * 1024)
      const {responseBody} = requests.get(recording.id)!
      expect(Buffer.from(responseBody!.base64, 'base64').equals(whole), recording.id).toBe(true)
      expect(responseBody!.truncated, recording.id).toBe(whole.length < Buffer.concat(chunks).length)
    }
  })

  it('records nothing with keep 0: the proxy then does no recording work', () => {
    expect(log({keep: 0}).recording).toBe(false)
    expect(log().recording).toBe(true)
  })

  it('keeps no bodies with bodyBytes 0', async () => {
    const requests = log({bodyBytes: 0})
    const entry = await exchange(requests, A, 30, 30)
    expect(requests.get(entry.id)).toMatchObject({requestBody: null, responseBody: null, bytesIn: 30, bytesOut: 30})
    expect(requests.heldBytes).toBe(0)
  })

  it('tells subscribers of each request once, when it completes, and lists summaries without bodies', async () => {
    const requests = log()
    const heard: string[] = []
    const stop = requests.subscribe((entry) => heard.push(`${entry.path} ${entry.status}`))
    const recording = start(requests, A, '/slow')
    expect(requests.list()[0]).toMatchObject({path: '/slow', status: null, durationMs: null})
    expect(heard).toEqual([])
    recording.head({status: 204, lines: []})
    recording.end(null)
    recording.end(null)
    stop()
    await exchange(requests, A, 5)
    expect(heard).toEqual(['/slow 204'])
    expect(requests.list().every((entry) => entry.requestBody === null && entry.responseBody === null)).toBe(true)
  })

  it('masks credentials and cookies in what it shows', () => {
    const requests = log()
    const recording = start(requests, A, '/', ['Authorization', 'Basic dXNlcjpwYXNz', 'Cookie', 'a=b', 'Proxy-Authorization', 'x', 'Accept', '*/*'])
    recording.head({status: 200, lines: ['Set-Cookie', 'id=1', 'Content-Type', 'text/event-stream']})
    recording.end(null)
    const [entry] = requests.list()
    expect(entry.requestHeaders).toEqual([
      ['Authorization', '[masked]'],
      ['Cookie', '[masked]'],
      ['Proxy-Authorization', '[masked]'],
      ['Accept', '*/*'],
    ])
    expect(entry.responseHeaders).toEqual([
      ['Set-Cookie', '[masked]'],
      ['Content-Type', 'text/event-stream'],
    ])
    expect(entry.protocol).toBe('sse')
    // What the client parses is what the log sends.
    expect(parseRecordedRequest(JSON.parse(JSON.stringify(requests.get(entry.id))))).toEqual(requests.get(entry.id))
  })

  it('refuses to replay a cut body, and an unknown id', async () => {
    const requests = log({bodyBytes: 10})
    const entry = await exchange(requests, A, 20)
    await expect(requests.replay(entry.id)).rejects.toMatchObject({code: 'CONFLICT', message: expect.stringContaining('only 10 of its 20 body bytes were kept')})
    await expect(requests.replay('zzzzz-1')).rejects.toMatchObject({code: 'NOT_FOUND'})
  })
})

describe('the /v1/requests query', () => {
  it('takes a tunnel or an endpoint, a limit and follow, and nothing else', () => {
    expect(parseRequestsQuery(new URLSearchParams('tunnel=3000&limit=5'))).toEqual({source: {kind: 'tunnel', port: 3000}, limit: 5, follow: false})
    expect(parseRequestsQuery(new URLSearchParams('endpoint=abcd1234&follow=1'))).toEqual({source: {kind: 'endpoint', id: 'abcd1234'}, follow: true})
    for (const bad of ['tunnel=0', 'tunnel=x', 'limit=0', 'limit=-1', 'follow=yes', 'other=1', 'tunnel=1&endpoint=a']) {
      expect(() => parseRequestsQuery(new URLSearchParams(bad)), bad).toThrow(expect.objectContaining({code: 'BAD_INPUT'}))
    }
  })
})

function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length
}
