import {once} from 'node:events'
import {request as httpRequest} from 'node:http'
import {type AddressInfo, createServer, type Server, type Socket} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {HeaderLines} from '../../src/supervisor/proxy/forwarding.js'
import {ResponseReader} from '../../src/supervisor/proxy/response-reader.js'

/**
 * A differential test of ResponseReader against Node's own parser (llhttp, through node:http on a
 * real socket): generated responses, framed every way, cut at every byte, with interim answers,
 * trailers and malformed heads, must give the same head, body, trailers and keep-alive decision, or
 * be refused by both. FUZZ_SEED replays a run; FUZZ_CASES sets how many cases it makes.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32))
const CASES = Number(process.env.FUZZ_CASES ?? 3000)
/** Cases in flight at once against the server. */
const PARALLEL = 16

/** What a parser made of a response: everything a proxy passes on, or a refusal. */
type Reading =
  | {refused: true}
  | {refused: false; interims: number[]; status: number; lines: HeaderLines; body: string; trailers: HeaderLines; keepAlive: boolean}

interface Case {
  bytes: string
  method: 'GET' | 'HEAD'
  /** The bytes without the Content-Length line of a final head that also has Transfer-Encoding. */
  withoutLength?: string
}

/** mulberry32: small, seeded, and good enough to pick cases. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d_2b_79_f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32
  }
}

function makeCase(random: () => number): Case {
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]
  const chance = (p: number) => random() < p
  const method = chance(0.1) ? 'HEAD' : 'GET'
  let bytes = ''

  for (let count = pick([0, 0, 0, 1, 2]); count > 0; count--) {
    bytes += pick([
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 102 Processing\r\n\r\n',
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload\r\n\r\n',
      'HTTP/1.1 103 \r\nX-Hint: one\r\n\r\n',
    ])
  }

  const version = chance(0.15) ? '1.0' : '1.1'
  const status = pick([200, 200, 200, 201, 204, 206, 304, 404, 500, 599])
  const bodiless = method === 'HEAD' || status === 204 || status === 304
  bytes += `HTTP/${version} ${status}${pick([' OK', ' Some Reason', ' ', ''])}\r\n`

  const body = bodiless ? '' : randomText(random, pick([0, 1, 5, 17, 40]))
  const framing = pick(['length', 'length', 'chunked', 'chunked', 'close', 'codings-chunked', 'codings-close', 'length-and-chunked'] as const)
  const lines: string[] = []
  for (let count = pick([0, 1, 3]); count > 0; count--) lines.push(`X-${pick(['App', 'Trace', 'A-B'])}: ${pick(['value', '  padded\t ', '', 'a, b; c="d"', 'caf\u00e9'])}`)
  const connection = pick([undefined, undefined, 'close', 'keep-alive', 'Keep-Alive', 'x-hop, close', 'upgrade'])
  if (connection !== undefined) lines.push(`Connection: ${connection}`)
  if (chance(0.2)) lines.push(`Keep-Alive: timeout=${pick([1, 5, 60])}`)

  let content = ''
  switch (framing) {
    case 'length':
      lines.push(`Content-Length: ${pick(['', ' ', '  '])}${body.length}`)
      content = body
      break
    case 'chunked':
    case 'codings-chunked':
      lines.push(`Transfer-Encoding: ${framing === 'chunked' ? pick(['chunked', 'Chunked']) : pick(['gzip, chunked', 'gzip,chunked', 'deflate, chunked', 'br, gzip, chunked'])}`)
      content = chunked(random, body, pick)
      break
    case 'length-and-chunked':
      lines.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked')
      content = chunked(random, body, pick)
      break
    case 'codings-close':
      lines.push(`Transfer-Encoding: ${pick(['gzip', 'chunked, gzip', 'deflate'])}`)
      content = body
      break
    case 'close':
      content = body
  }

  shuffle(random, lines)
  bytes += lines.map((line) => `${line}\r\n`).join('')
  bytes += `\r\n${bodiless ? '' : content}`
  if (chance(0.25)) bytes = malformed(random, bytes, pick)
  return {bytes, method, withoutLength: withoutLength(bytes)}
}

/** `bytes` without the Content-Length line when the final head has one, a valid one, and Transfer-Encoding too. */
function withoutLength(bytes: string): string | undefined {
  const at = bytes.search(/HTTP\/1\.[01] [2-5]/)
  const headEnd = bytes.indexOf('\r\n\r\n', at)
  if (at === -1 || headEnd === -1) return undefined
  const head = bytes.slice(at, headEnd + 2)
  const lengths = head.match(/\r\ncontent-length:[^\r]*/gi) ?? []
  if (lengths.length !== 1 || !/^\r\ncontent-length:[ \t]*\d+[ \t]*$/i.test(lengths[0]) || !/\r\ntransfer-encoding:/i.test(head)) return undefined
  return bytes.slice(0, at) + head.replace(lengths[0], '') + bytes.slice(headEnd + 2)
}

function chunked(random: () => number, body: string, pick: <T>(choices: readonly T[]) => T): string {
  let text = ''
  for (let at = 0; at < body.length; ) {
    const size = Math.min(body.length - at, 1 + Math.floor(random() * 16))
    const hex = size.toString(16)
    text += `${random() < 0.5 ? hex : hex.toUpperCase()}${pick(['', '', ';name=value', ';name="quoted value"', ';flag'])}\r\n${body.slice(at, at + size)}\r\n`
    at += size
  }

  text += `${pick(['0', '000'])}\r\n`
  if (random() < 0.3) text += pick(['X-Checksum: abc\r\n', 'X-One: 1\r\nX-Two: two words\r\n', 'Server-Timing: db;dur=53\r\n'])
  return `${text}\r\n`
}

/** One thing wrong with the response, of the kinds a broken or hostile app sends. */
function malformed(random: () => number, bytes: string, pick: <T>(choices: readonly T[]) => T): string {
  // The final response's status line, after any interim answers.
  const at = bytes.search(/HTTP\/1\.[01] [2-5]/)
  const headEnd = bytes.indexOf('\r\n\r\n', at)
  const lineAt = bytes.indexOf('\r\n', at) + 2
  const insert = (text: string) => bytes.slice(0, lineAt) + text + bytes.slice(lineAt)
  switch (pick(['truncate', 'truncate', 'bare-lf', 'space-before-colon', 'folded', 'no-colon', 'bad-name', 'control-in-value', 'two-lengths', 'bad-length', 'bad-status', 'bad-chunk', 'chunk-overrun', 'upgrade', 'trailing'] as const)) {
    case 'truncate':
      return bytes.slice(0, Math.floor(random() * bytes.length))
    case 'bare-lf': {
      const cut = bytes.indexOf('\r\n', at + Math.floor(random() * Math.max(1, headEnd - at)))
      return cut === -1 ? bytes : `${bytes.slice(0, cut)}\n${bytes.slice(cut + 2)}`
    }
    case 'space-before-colon':
      return insert('X-Spaced : value\r\n')
    case 'folded':
      return insert('X-Folded: one\r\n two\r\n')
    case 'no-colon':
      return insert('no colon here\r\n')
    case 'bad-name':
      return insert(`${pick(['X(A)', 'X A', 'X\u00e9', ''])}: value\r\n`)
    case 'control-in-value':
      return insert(`X-Control: a${pick(['\u0000', '\u0001', '\u007f', '\r'])}b\r\n`)
    case 'two-lengths':
      return insert(`Content-Length: ${pick(['0', '7'])}\r\nContent-Length: 7\r\n`)
    case 'bad-length':
      return insert(`Content-Length: ${pick(['-1', '+5', '0x10', '5 5', '5,5', 'five'])}\r\n`)
    case 'bad-status':
      return bytes.slice(0, at) + pick(['HTTP/2 200 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'ICY 200 OK', 'HTTP/1.1  200 OK', 'http/1.1 200 OK']) + bytes.slice(bytes.indexOf('\r\n', at))
    case 'bad-chunk':
      return insert('Transfer-Encoding: chunked\r\n').replace(/\r\n\r\n[\s\S]*$/, `\r\n\r\n${pick(['zz', '-1', '1 2', '', ' 5', '5 ', '5\t', '5 ;a=b', '5;', '5;a=', 'fffffffffffffffff'])}\r\nhello\r\n0\r\n\r\n`)
    case 'chunk-overrun':
      return insert('Transfer-Encoding: chunked\r\n').replace(/\r\n\r\n[\s\S]*$/, '\r\n\r\n2\r\ntoo long\r\n0\r\n\r\n')
    case 'upgrade':
      return bytes.slice(0, at) + 'HTTP/1.1 101 Switching Protocols' + bytes.slice(bytes.indexOf('\r\n', at))
    case 'trailing':
      return insert('Transfer-Encoding: chunked\r\n').replace(/\r\n\r\n[\s\S]*$/, `\r\n\r\n0\r\n${pick(['X-Bad : v', 'no colon', ' folded', 'X-Ctl: a\u0001b'])}\r\n\r\n`)
  }
}

function randomText(random: () => number, length: number): string {
  let text = ''
  for (let index = 0; index < length; index++) text += String.fromCharCode(Math.floor(random() * 256))
  return text
}

function shuffle<T>(random: () => number, items: T[]): void {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1))
    ;[items[index], items[other]] = [items[other], items[index]]
  }
}

/** What ResponseReader makes of `bytes` arriving in `pieces`, the connection closing after them. */
function readWithReader(bytes: string, pieces: number[], method: string): Reading {
  const interims: number[] = []
  let head: {status: number; lines: HeaderLines; keepAlive: boolean} | undefined
  let body = ''
  let trailers: HeaderLines = []
  let ended = false
  const reader = new ResponseReader(
    {
      interim: ({status}) => interims.push(status),
      head: (received) => (head = received),
      body: (chunk) => (body += chunk.toString('latin1')),
      end: (received?: HeaderLines) => {
        ended = true
        trailers = received ?? []
      },
    },
    method === 'HEAD',
  )
  try {
    let at = 0
    for (const end of [...pieces, bytes.length]) {
      if (end > at) reader.push(Buffer.from(bytes.slice(at, end), 'latin1'))
      at = end
    }

    reader.close()
  } catch {
    return {refused: true}
  }

  // llhttp reads bytes after the response as the next one, which no request asked for: an error.
  if (!head || !ended || reader.overrun) return {refused: true}
  return {refused: false, interims, status: head.status, lines: head.lines, body, trailers, keepAlive: head.keepAlive && !reader.overrun}
}

/** Serves each case's bytes to the request for /<index>, then closes the connection. */
async function caseServer(cases: Case[]): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let received = ''
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      if (!received.includes('\r\n\r\n')) return
      socket.end(Buffer.from(cases[Number(received.split(' ')[1].slice(1))].bytes, 'latin1'))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

/** What node:http (llhttp) makes of case `index`, on a socket to `port`. */
function readWithNode(port: number, index: number, method: string): Promise<Reading> {
  return new Promise((resolve) => {
    const refused = () => resolve({refused: true})
    const interims: number[] = []
    // Connection: keep-alive, so that shouldKeepAlive ends up as llhttp's decision on the response.
    const request = httpRequest({host: '127.0.0.1', port, method, path: `/${index}`, agent: false, headers: {connection: 'keep-alive'}})
    request.on('information', ({statusCode}) => interims.push(statusCode))
    request.on('error', refused)
    request.on('response', (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')))
      response.on('error', refused)
      response.on('aborted', refused)
      response.on('end', () => {
        if (!response.complete) return refused()
        const reading: Reading = {
          refused: false,
          interims,
          status: response.statusCode!,
          lines: response.rawHeaders,
          body,
          trailers: response.rawTrailers,
          keepAlive: request.shouldKeepAlive,
        }
        // The end comes before the socket's own error, if any: a parse error after it still refuses.
        setImmediate(() => resolve(reading))
      })
    })
    request.end()
  })
}

/**
 * Where the reader departs from llhttp on purpose: a response with both Content-Length and
 * Transfer-Encoding is read by its Transfer-Encoding without the length (RFC 9112 6.3), as nginx
 * and Caddy read it, where llhttp refuses it, and its connection is not used again; and a 101 is
 * refused.
 */
function expectedFromNode(node: Reading, withoutLength: Reading | undefined): Reading {
  const expected = !withoutLength || withoutLength.refused ? node : {...withoutLength, keepAlive: false}
  // llhttp reads a 101 to a request that asked for no upgrade as a response; the proxy asked for none, and cannot pass one on.
  return !expected.refused && expected.status === 101 ? {refused: true} : expected
}

/**
 * Where `length` bytes are cut: not at all, before every byte (so that every boundary falls between
 * two arrivals), a few cuts at random, and for one case in twenty every way of cutting them in two.
 */
function splits(length: number, random: () => number): number[][] {
  const every = Array.from({length: length - 1}, (_, index) => index + 1)
  const ways: number[][] = [[], every]
  for (let count = 0; count < 3; count++) ways.push(every.filter(() => random() < 0.05))
  if (random() < 0.05) for (const cut of every) ways.push([cut])
  return ways
}

describe('ResponseReader against llhttp', () => {
  const random = generator(SEED)
  const cases = Array.from({length: CASES}, () => makeCase(random))
  // The same responses without the Content-Length beside Transfer-Encoding, for the departure above.
  const lengthless = cases.map((testCase) => ({...testCase, bytes: testCase.withoutLength ?? testCase.bytes}))
  let server: Server
  let port: number

  beforeAll(async () => {
    server = await caseServer([...cases, ...lengthless])
    port = (server.address() as AddressInfo).port
  })

  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it(`reads ${CASES} generated responses as llhttp does, cut at every boundary (seed ${SEED})`, async () => {
    const readings: Reading[] = Array.from({length: CASES})
    const withoutLength: (Reading | undefined)[] = Array.from({length: CASES})
    let next = 0
    const worker = async () => {
      while (next < CASES) {
        const index = next++
        readings[index] = await readWithNode(port, index, cases[index].method)
        if (cases[index].withoutLength) withoutLength[index] = await readWithNode(port, CASES + index, cases[index].method)
      }
    }

    await Promise.all(Array.from({length: PARALLEL}, worker))

    const splitRandom = generator(SEED ^ 0x5eed)
    for (const [index, testCase] of cases.entries()) {
      const expected = expectedFromNode(readings[index], withoutLength[index])
      for (const pieces of splits(testCase.bytes.length, splitRandom)) {
        const actual = readWithReader(testCase.bytes, pieces, testCase.method)
        // Compared as text first: expect's deep equality, run for every cut of every case, would take most of a minute.
        if (JSON.stringify(actual) === JSON.stringify(expected)) continue
        const cuts = pieces.length === testCase.bytes.length - 1 ? 'every byte' : JSON.stringify(pieces)
        expect(actual, `seed ${SEED} (FUZZ_SEED=${SEED} replays it), case ${index}, ${testCase.method}, cut at ${cuts}: ${JSON.stringify(testCase.bytes)}`).toEqual(expected)
      }
    }

    // The cases reached every kind of outcome, so that a generator gone wrong cannot pass unnoticed.
    const read = readings.filter((reading) => !reading.refused)
    expect({
      refused: readings.length > read.length,
      interims: read.some((reading) => reading.interims.length > 0),
      trailers: read.some((reading) => reading.trailers.length > 0),
      kept: read.some((reading) => reading.keepAlive),
      closed: read.some((reading) => !reading.keepAlive),
      lengthDropped: withoutLength.some((reading) => reading && !reading.refused),
    }).toEqual({refused: true, interims: true, trailers: true, kept: true, closed: true, lengthDropped: true})
  })
})
