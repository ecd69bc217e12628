import {describe, expect, it} from 'vitest'
import type {HeaderLines} from '../../src/supervisor/proxy/forwarding.js'
import {type InterimHead, MalformedResponse, type ResponseHead, ResponseReader} from '../../src/supervisor/proxy/response-reader.js'

/** Feeds `pieces` to a reader as separate arrivals and records what it hands on. */
function read(pieces: string[], {bodiless = false, close = false} = {}) {
  const interims: InterimHead[] = []
  const heads: ResponseHead[] = []
  let body = ''
  let ended = false
  let trailers: HeaderLines = []
  const reader = new ResponseReader(
    {
      interim: (head) => interims.push(head),
      head: (head) => heads.push(head),
      body: (chunk) => (body += chunk.toString('latin1')),
      end(received) {
        ended = true
        trailers = received
      },
    },
    bodiless,
  )
  for (const piece of pieces) reader.push(Buffer.from(piece, 'latin1'))
  if (close) reader.close()
  return {interims, heads, body, ended, trailers, done: reader.done, overrun: reader.overrun}
}

/** Every way of cutting `text` in two, so that no boundary is special. */
function everySplit(text: string): string[][] {
  return Array.from({length: text.length - 1}, (_, index) => [text.slice(0, index + 1), text.slice(index + 1)])
}

describe('ResponseReader', () => {
  it('reads a head and a body of a given length, however the bytes arrive', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Spaced: \t padded \t\r\n\r\nhello'
    for (const pieces of [[response], ...everySplit(response)]) {
      const {heads, body, ended} = read(pieces)
      expect(heads).toEqual([
        {status: 200, statusText: 'OK', lines: ['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Spaced', 'padded'], keepAlive: true, idleTimeoutMs: undefined, chunked: false, length: 5, raw: response.slice(0, response.indexOf('\r\n\r\n'))},
      ])
      expect([body, ended]).toEqual(['hello', true])
    }
  })

  it('takes the chunks out of a chunked body and hands on its trailers, however the bytes arrive', () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Checksum: \tabc \r\n\r\n'
    for (const pieces of [[response], ...everySplit(response)]) {
      const {heads, body, ended, trailers, overrun} = read(pieces)
      expect(heads[0]).toMatchObject({chunked: true, keepAlive: true, lines: ['Transfer-Encoding', 'chunked', 'Trailer', 'X-Checksum']})
      expect([body, ended, trailers, overrun]).toEqual(['hello, world!!!', true, ['X-Checksum', 'abc'], false])
    }
  })

  it('hands on interim answers, then reads the response that follows', () => {
    const {interims, heads, body} = read(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'])
    expect(interims).toEqual([
      {status: 100, statusText: 'Continue', lines: []},
      {status: 103, statusText: 'Early Hints', lines: ['Link', '</style.css>']},
    ])
    expect(heads.map((head) => head.status)).toEqual([201])
    expect(body).toBe('ok')
  })

  it('says which transfer codings the body still comes in, besides the chunks', () => {
    const gzipChunked = read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\x1f\x8b\r\n0\r\n\r\n'])
    expect(gzipChunked.heads[0]).toMatchObject({codings: 'gzip', chunked: true, keepAlive: true})
    expect(gzipChunked.body).toBe('\x1f\x8b')
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']).heads[0].codings).toBeUndefined()
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: br, gzip\r\n\r\nbytes']).heads[0]).toMatchObject({codings: 'br, gzip', chunked: false, keepAlive: false})
  })

  it('reads a response with both Transfer-Encoding and Content-Length by its chunks, drops the length, and keeps no connection', () => {
    const {heads, body, ended} = read(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'])
    expect(heads[0]).toMatchObject({lines: ['Transfer-Encoding', 'chunked'], keepAlive: false})
    expect([body, ended]).toEqual(['hello', true])
  })

  it('knows answers without a body: to HEAD, 204 and 304, whatever their length says', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'], {bodiless: true})).toMatchObject({ended: true, body: ''})
    expect(read(['HTTP/1.1 204 No Content\r\n\r\n'])).toMatchObject({ended: true, body: ''})
    expect(read(['HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n'])).toMatchObject({ended: true, body: ''})
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'])).toMatchObject({ended: true, body: ''})
  })

  it('reads a body without length or chunks until the connection closes, and never keeps that connection', () => {
    const reading = read(['HTTP/1.1 200 OK\r\n\r\nstream', 'ed'])
    expect(reading).toMatchObject({body: 'streamed', ended: false})
    expect(reading.heads[0].keepAlive).toBe(false)
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbytes'], {close: true})).toMatchObject({body: 'bytes', ended: true})
  })

  it('says when the connection may be kept, and for how long the server keeps it', () => {
    const head = (text: string) => read([`${text}\r\nContent-Length: 0\r\n\r\n`]).heads[0]
    expect(head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100')).toMatchObject({keepAlive: true, idleTimeoutMs: 5000})
    expect(head('HTTP/1.1 200 OK\r\nConnection: keep-alive, Close')).toMatchObject({keepAlive: false})
    expect(head('HTTP/1.0 200 OK')).toMatchObject({keepAlive: false})
    expect(head('HTTP/1.0 200 OK\r\nConnection: keep-alive')).toMatchObject({keepAlive: true})
  })

  it('notices bytes after the end of the response', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'])).toMatchObject({body: 'ok', done: true, overrun: true})
  })

  it('refuses what it cannot frame with certainty', () => {
    const refusals: [string, string][] = [
      ['HTTP/2 200 OK\r\n\r\n', 'not HTTP/1.x'],
      ['HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'a bare line feed'],
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'an upgrade nobody asked for'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', 'two lengths'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'a negative length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', 'a hex length'],
      ['HTTP/1.1 200 OK\r\nX-Spaced : value\r\nContent-Length: 0\r\n\r\n', 'a space before the colon'],
      ['HTTP/1.1 200 OK\r\nX-Control: a\x01b\r\nContent-Length: 0\r\n\r\n', 'a control character in a value'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n', 'a space in a chunk line'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n', 'a trailer line with no name'],
      ['HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n', 'a folded line'],
      ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'a line with no name'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'a bad chunk size'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\ntoo long\r\n', 'a chunk longer than it said'],
      [`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(20_000)}`, 'a head that never ends'],
    ]
    for (const [response, what] of refusals) expect(() => read([response]), what).toThrow(MalformedResponse)
  })

  it('refuses a close before the response is complete', () => {
    expect(() => read(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart'], {close: true})).toThrow(MalformedResponse)
    expect(() => read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\npart\r\n'], {close: true})).toThrow(MalformedResponse)
    expect(() => read(['HTTP/1.1 200 O'], {close: true})).toThrow(MalformedResponse)
  })
})
