import {once} from 'node:events'
import {type IncomingMessage, request as httpRequest} from 'node:http'
import type {Socket} from 'node:net'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {hashPassword, newPassword} from '../../src/supervisor/proxy/basic-auth.js'
import {FailedLogins} from '../../src/supervisor/proxy/failed-logins.js'
import {visitorAddress} from '../../src/supervisor/proxy/visitor-address.js'
import {ms, recordFigure} from '../helpers/figures.js'
import {basicAuthorization, type HttpReply, readAll} from '../helpers/http.js'
import {useProxyHarness, TEST_SOURCE} from '../helpers/proxy-harness.js'

/** The sizes of what each timingSafeEqual call compared, in bytes. */
const timingSafeEqualCalls = vi.hoisted((): number[][] => [])

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>()
  return {
    ...crypto,
    timingSafeEqual(a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean {
      timingSafeEqualCalls.push([a.byteLength, b.byteLength])
      return crypto.timingSafeEqual(a, b)
    },
  }
})

const harness = useProxyHarness()
const {defer, send, sendRaw, upstreamOnPort} = harness

/** Node checks for clients past their headers timeout once a second after the 10 s: anything near 25 s is a hang. */
const HANG_GUARD_MS = 25_000

/** Rejects when `promise` has not settled within `limit` ms: a guard against hangs, not a measurement. */
async function within<T>(limit: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${limit} ms`)), limit)
  })
  try {
    return await Promise.race([promise, guard])
  } finally {
    clearTimeout(timer)
  }
}

async function timed<T>(work: Promise<T>): Promise<{result: T; ms: number}> {
  const started = performance.now()
  const result = await work
  return {result, ms: performance.now() - started}
}

function tally(replies: HttpReply[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const {status} of replies) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

describe('wrong passwords are throttled per visitor and endpoint', () => {
  let password: string
  /** The listener cloudflared would be pointed at, where CF-Connecting-IP names the visitor. */
  let cloudflarePort: number

  beforeEach(async () => {
    password = newPassword()
    cloudflarePort = await harness.proxy.listen('cf-connecting-ip')
    const {port} = await upstreamOnPort()
    const authHash = await hashPassword(password)
    harness.proxy.setRoute('app.test', {source: TEST_SOURCE, target: {kind: 'port', port}, authHash})
    harness.proxy.setRoute('other.test', {source: TEST_SOURCE, target: {kind: 'port', port}, authHash})
  })

  /** A request as cloudflared passes it on for a visitor at `address`. */
  function sendAs(address: string, host: string, secret?: string): Promise<HttpReply> {
    const headers = {'cf-connecting-ip': address, ...(secret === undefined ? {} : {authorization: basicAuthorization('tunnelctl', secret)})}
    return send(host, {headers, port: cloudflarePort})
  }

  function wrongPasswords(count: number): string[] {
    return Array.from({length: count}, (_, index) => `wrong-${index}`)
  }

  it('answers 429 with Retry-After once a visitor has sent ten wrong passwords, without running bcrypt for the rest', async () => {
    // Held, so that all thirty arrive while bcrypt is still busy with the first: no answer has come back to count.
    const release = harness.holdVerifications()
    let throttledSoFar = 0
    let allThrottled!: () => void
    const twentyThrottled = new Promise<void>((resolve) => (allThrottled = resolve))
    const burst = Promise.all(
      wrongPasswords(30).map(async (wrong) => {
        const reply = await sendAs('198.51.100.1', 'app.test', wrong)
        if (reply.status === 429 && ++throttledSoFar === 20) allThrottled()
        return reply
      }),
    )
    await within(10_000, 'waiting for twenty 429s while bcrypt is held', twentyThrottled)
    expect(harness.verifications, 'verifications started').toBe(10)

    release()
    const [replies, {result: bystanderReply, ms: bystanderMs}] = await Promise.all([burst, timed(sendAs('198.51.100.2', 'app.test', password))])
    expect(tally(replies)).toEqual({401: 10, 429: 20})
    const throttled = replies.filter((reply) => reply.status === 429)
    for (const reply of throttled) expect(Number(reply.headers['retry-after'])).toSatisfy((seconds: number) => Number.isInteger(seconds) && seconds >= 1 && seconds <= 60)
    expect(throttled[0].body).toMatch(/^tunnelctl: too many wrong passwords/)
    expect(bystanderReply.status).toBe(200)
    // Ten wrong passwords and the bystander's right one.
    expect(harness.verifications).toBe(11)

    expect((await sendAs('198.51.100.1', 'app.test', password)).status, 'even the right password, while throttled').toBe(429)
    expect((await sendAs('198.51.100.1', 'other.test', 'wrong')).status, 'the same visitor at another endpoint').toBe(401)
    expect(harness.verifications).toBe(12)

    recordFigure(
      'Bad input',
      'A burst of wrong passwords is throttled',
      `30 wrong at once → 10 × 401, 20 × 429 (Retry-After ${throttled[0].headers['retry-after']} s); bcrypt ran 10 times for them; another visitor got 200 in ${ms(bystanderMs)} while those 10 ran`,
    )
  })

  it('does not count requests that carry no credential', async () => {
    const anonymous = await Promise.all(Array.from({length: 20}, () => sendAs('198.51.100.1', 'app.test')))
    expect(tally(anonymous)).toEqual({401: 20})
    expect((await sendAs('198.51.100.1', 'app.test', password)).status).toBe(200)

    recordFigure('Bad input', 'Asking without a password is not a failed login', '20 without credentials → 20 × 401, then the right password → 200')
  })

  it('counts malformed Authorization headers as failures, without running bcrypt', async () => {
    const malformed = ['Basic !!!', basicAuthorization('admin', password), `Bearer ${password}`, 'Basic', 'Basic dHVubmVsY3Rs']
    const replies = []
    for (let index = 0; index < 10; index++) {
      replies.push(await send('app.test', {port: cloudflarePort, headers: {'cf-connecting-ip': '198.51.100.1', authorization: malformed[index % malformed.length]}}))
    }

    expect(tally(replies)).toEqual({401: 10})
    expect((await sendAs('198.51.100.1', 'app.test', password)).status).toBe(429)
    expect(harness.verifications).toBe(0)

    recordFigure('Bad input', 'Malformed credentials count as failed logins', '10 malformed → 10 × 401, then the right password → 429; bcrypt ran 0 times')
  })

  it("clears a visitor's count when it logs in", async () => {
    const statuses: number[] = []
    for (const wrong of wrongPasswords(9)) statuses.push((await sendAs('198.51.100.1', 'app.test', wrong)).status)
    statuses.push((await sendAs('198.51.100.1', 'app.test', password)).status)
    for (const wrong of wrongPasswords(9)) statuses.push((await sendAs('198.51.100.1', 'app.test', wrong)).status)
    statuses.push((await sendAs('198.51.100.1', 'app.test', password)).status)

    expect(statuses).toEqual([...Array(9).fill(401), 200, ...Array(9).fill(401), 200])

    recordFigure('Bad input', 'A successful login clears the count', '9 wrong, right, 9 wrong, right → no 429')
  })

  it('throttles WebSocket upgrades the same way', async () => {
    async function upgradeAs(secret: string): Promise<IncomingMessage> {
      const client = harness.openWebSocket('app.test', {'cf-connecting-ip': '198.51.100.1', authorization: basicAuthorization('tunnelctl', secret)})
      const [, response] = await once(client, 'unexpected-response')
      return response as IncomingMessage
    }

    const refused: number[] = []
    for (const wrong of wrongPasswords(10)) refused.push((await upgradeAs(wrong)).statusCode!)
    const throttled = await upgradeAs(password)

    expect(refused).toEqual(Array(10).fill(401))
    expect(throttled.statusCode).toBe(429)
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0)
    expect(harness.verifications).toBe(10)

    recordFigure('Bad input', 'WebSocket upgrades are throttled too', `10 wrong upgrades → 10 × 401, then the right password → 429 (Retry-After ${throttled.headers['retry-after']} s); bcrypt ran 10 times`)
  })

  it("holds failures against the connection's address wherever the visitor writes the headers, and against the named visitor where the provider does", async () => {
    const forwardedForPort = await harness.proxy.listen('x-forwarded-for')
    const wrong = (index: number) => ({authorization: basicAuthorization('tunnelctl', `wrong-${index}`)})
    const right = {authorization: basicAuthorization('tunnelctl', password)}
    const replies = []
    for (let index = 0; index < 10; index++) {
      replies.push(await send('app.test', {headers: {'cf-connecting-ip': `203.0.113.${index}`, 'x-forwarded-for': `10.0.0.${index}`, ...wrong(index)}}))
    }

    const newDisguise = await send('app.test', {headers: {'cf-connecting-ip': '203.0.113.99', 'x-forwarded-for': '10.9.9.9', ...right}})
    const cloudflareNamesAnother = await send('app.test', {port: cloudflarePort, headers: {'cf-connecting-ip': '198.51.100.9', ...right}})
    const tailscaleNamesAnother = await send('app.test', {port: forwardedForPort, headers: {'x-forwarded-for': '100.64.0.9', ...right}})
    const cloudflareHeaderOnTailscale = await send('app.test', {port: forwardedForPort, headers: {'cf-connecting-ip': '198.51.100.10', ...right}})

    expect(tally(replies)).toEqual({401: 10})
    expect(newDisguise.status, 'forged headers on the proxy\'s own port').toBe(429)
    expect(cloudflareNamesAnother.status).toBe(200)
    expect(tailscaleNamesAnother.status).toBe(200)
    expect(cloudflareHeaderOnTailscale.status, 'no X-Forwarded-For on the tailscale listener: the loopback address, throttled').toBe(429)

    recordFigure(
      'Bad input',
      'Failures are held against what the visitor cannot forge',
      "10 wrong on the proxy's own port, each with new forged CF-Connecting-IP and X-Forwarded-For → then 429; another visitor named by CF-Connecting-IP on cloudflared's listener, or by X-Forwarded-For on tailscale's → 200",
    )
  })
})

describe('visitors are told apart by what they cannot forge', () => {
  function requestFrom(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
    return {socket: {remoteAddress}, headers} as unknown as IncomingMessage
  }

  const forged = {'cf-connecting-ip': '203.0.113.66', 'x-forwarded-for': '203.0.113.77'}

  it('uses the connection\'s address, loopback or not, where no provider vouches for a header', () => {
    for (const address of ['192.0.2.5', '::ffff:192.0.2.5', '2001:db8::5', '127.0.0.1', '::1']) expect(visitorAddress(requestFrom(address, forged))).toBe(address)

    recordFigure('Bad input', 'Visitors cannot choose their address', '5 connections (LAN and loopback) with forged CF-Connecting-IP and X-Forwarded-For → their socket address')
  })

  it('believes only the header the provider sets, and only when it is one address', () => {
    expect(visitorAddress(requestFrom('127.0.0.1', {...forged, 'cf-connecting-ip': ' 198.51.100.1 '}), 'cf-connecting-ip')).toBe('198.51.100.1')
    expect(visitorAddress(requestFrom('127.0.0.1', {...forged, 'x-forwarded-for': '2001:db8::7'}), 'x-forwarded-for')).toBe('2001:db8::7')
    expect(visitorAddress(requestFrom('127.0.0.1', {'x-forwarded-for': '198.51.100.2'}), 'cf-connecting-ip')).toBe('127.0.0.1')
    expect(visitorAddress(requestFrom('127.0.0.1', {'x-forwarded-for': '10.0.0.1, 198.51.100.2'}), 'x-forwarded-for')).toBe('127.0.0.1')
    expect(visitorAddress(requestFrom('127.0.0.1', {'cf-connecting-ip': 'not an address'}), 'cf-connecting-ip')).toBe('127.0.0.1')

    recordFigure('Bad input', 'A provider\'s header names the visitor only on its listener', '5 loopback requests → the trusted header when it is one IP address, else the loopback address')
  })
})

describe('failed logins are forgotten in time and in bounded memory', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('lets a visitor try again once its minute is over', () => {
    vi.useFakeTimers({toFake: ['performance']})
    const failedLogins = new FailedLogins()
    for (let index = 0; index < 9; index++) failedLogins.record('visitor')
    expect(failedLogins.retryAfter('visitor'), 'after nine').toBeUndefined()

    failedLogins.record('visitor')
    const atTheTenth = failedLogins.retryAfter('visitor')
    vi.advanceTimersByTime(59_500)
    const nearTheEnd = failedLogins.retryAfter('visitor')
    vi.advanceTimersByTime(500)

    expect(atTheTenth).toBe(60)
    expect(nearTheEnd).toBe(1)
    expect(failedLogins.retryAfter('visitor')).toBeUndefined()

    recordFigure('Bad input', 'A throttled visitor may try again after the window', 'Retry-After 60 s at the 10th failure, 1 s at 59.5 s, free at 60 s')
  })

  it('tracks at most 10 000 visitors, forgetting the oldest first', () => {
    const failedLogins = new FailedLogins()
    for (let index = 0; index < 10; index++) failedLogins.record('first')
    for (let index = 1; index < 10_000; index++) failedLogins.record(`cycled-${index}`)
    const throttledAtTheCap = failedLogins.retryAfter('first')
    failedLogins.record('one-too-many')

    expect(throttledAtTheCap).toBeGreaterThan(0)
    expect(failedLogins.retryAfter('first')).toBeUndefined()

    recordFigure('Bad input', 'Visitors cycling addresses only evict', '10 000 visitors held, a throttled one first; the 10 001st evicts it')
  })
})

describe('a remembered password is compared in constant time', () => {
  it('compares the right password and wrong ones of other lengths as 32-byte digests with timingSafeEqual', async () => {
    const password = newPassword()
    const {port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: TEST_SOURCE, target: {kind: 'port', port}, authHash: await hashPassword(password)})
    expect((await send('app.test', {headers: {authorization: basicAuthorization('tunnelctl', password)}})).status).toBe(200)

    timingSafeEqualCalls.length = 0
    const statuses = []
    for (const attempt of [password, 'x', 'y'.repeat(100)]) {
      statuses.push((await send('app.test', {headers: {authorization: basicAuthorization('tunnelctl', attempt)}})).status)
    }

    expect(statuses).toEqual([200, 401, 401])
    expect(timingSafeEqualCalls).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ])
    // Once for the right password, once for each wrong one: the remembered one needed no bcrypt.
    expect(harness.verifications).toBe(3)

    recordFigure(
      'Bad input',
      'The remembered password is compared in constant time',
      `right (${password.length} chars), wrong (1 and 100 chars) → 3 × timingSafeEqual on 32-byte digests; bcrypt ran only for the wrong ones`,
    )
  })
})

describe('slow and oversized clients', () => {
  /** Resolves with what the proxy sent on `socket` and when it closed it, in ms from now. */
  function closing(socket: Socket): Promise<{answer: string; ms: number}> {
    const started = performance.now()
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('error', () => {})
    return new Promise((resolve) => socket.on('close', () => resolve({answer, ms: performance.now() - started})))
  }

  function cutOff({answer, ms: elapsed}: {answer: string; ms: number}): string {
    return `${(elapsed / 1000).toFixed(1)} s ${answer ? 'with 408' : 'without an answer'}`
  }

  it('cuts off clients that send no headers or stall halfway through them, while others are served and an upload in progress carries on', async () => {
    const {port} = await upstreamOnPort(async (request, response) => response.end(`received ${await readAll(request)}`))
    harness.proxy.setRoute('app.test', {source: TEST_SOURCE, target: {kind: 'port', port}})

    const silent = harness.connectRaw()
    const stalled = harness.connectRaw()
    await Promise.all([once(silent, 'connect'), once(stalled, 'connect')])
    stalled.write('GET / HTTP/1.1\r\nHost: app.te')
    const silentClosed = closing(silent)
    const stalledClosed = closing(stalled)

    // Headers complete, body in no hurry: the headers timeout is not a whole-request timeout.
    const upload = httpRequest({host: '127.0.0.1', port: harness.proxy.port, agent: false, method: 'POST', headers: {host: 'app.test'}})
    defer(() => upload.destroy())
    upload.write('first,')

    const meanwhile = await timed(send('app.test'))
    expect(meanwhile.result.status).toBe(200)

    const [silentEnd, stalledEnd] = await within(HANG_GUARD_MS, 'waiting for the proxy to cut off slow clients', Promise.all([silentClosed, stalledClosed]))
    expect(silentEnd.answer).toMatch(/^$|^HTTP\/1\.1 408 /)
    expect(stalledEnd.answer).toMatch(/^$|^HTTP\/1\.1 408 /)

    const uploaded = once(upload, 'response')
    upload.end('second')
    const [response] = await within(HANG_GUARD_MS, 'waiting for the upload to finish', uploaded)
    expect(await readAll(response as IncomingMessage)).toBe('received first,second')

    recordFigure(
      'Bad input',
      'Slow header-less clients are cut off',
      `silent client closed after ${cutOff(silentEnd)}, half a header line after ${cutOff(stalledEnd)}; another visitor served in ${ms(meanwhile.ms)} meanwhile; an upload open as long finished`,
    )
  })

  it('answers 431 to headers over 16 KiB and keeps serving', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute('app.test', {source: TEST_SOURCE, target: {kind: 'port', port}})

    const oversized = await sendRaw(`GET / HTTP/1.1\r\nHost: app.test\r\nX-Padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`)
    expect(oversized).toMatch(/^HTTP\/1\.1 431 /)
    expect(upstream.connections).toBe(0)

    const large = await send('app.test', {headers: {'x-padding': 'a'.repeat(15 * 1024)}})
    expect(large.status).toBe(200)
    expect((await send('app.test')).status).toBe(200)

    recordFigure('Bad input', 'Oversized headers are refused', '17 KiB of headers → 431 and no upstream connection; 15 KiB → 200; the next request → 200')
  })
})

describe('only the exact host name routes', () => {
  const ENDPOINT = 'endpoint.example.com'

  it('answers 404 without connecting upstream to hosts that only resemble the endpoint', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute(ENDPOINT, {source: TEST_SOURCE, target: {kind: 'port', port}})

    const lookalikes = [`${ENDPOINT}.evil.test`, 'evil.test', `${ENDPOINT}@evil.test`, `${ENDPOINT}:80@evil.test`, `x${ENDPOINT}`, `${ENDPOINT}%00`, `${ENDPOINT}..`, `${ENDPOINT}:https`, `${ENDPOINT}:8443`]
    for (const host of lookalikes) expect((await send(host)).status, host).toBe(404)
    const nul = await sendRaw(`GET / HTTP/1.1\r\nHost: ${ENDPOINT}\0evil.test\r\nConnection: close\r\n\r\n`)
    expect(nul, 'a NUL byte in Host').toMatch(/^HTTP\/1\.1 400 /)
    expect(upstream.connections).toBe(0)

    recordFigure('Bad input', 'Look-alike Host headers reach nothing', `${lookalikes.length} look-alike hosts → 404, a NUL byte → 400; 0 upstream connections`)
  })

  it("routes the endpoint's own name in any case, with a port, or with a trailing dot", async () => {
    const {port} = await upstreamOnPort()
    harness.proxy.setRoute(ENDPOINT, {source: TEST_SOURCE, target: {kind: 'port', port}})

    const spellings = ['ENDPOINT.example.COM.', `${ENDPOINT}:443`]
    for (const host of spellings) expect((await send(host)).status, host).toBe(200)

    recordFigure('Bad input', 'The endpoint routes however its name is spelled', `${spellings.join(', ')} → 200`)
  })

  it('refuses absolute-form and CONNECT requests that name another host, without connecting upstream', async () => {
    const {upstream, port} = await upstreamOnPort()
    harness.proxy.setRoute(ENDPOINT, {source: TEST_SOURCE, target: {kind: 'port', port}})

    const answers = [
      await sendRaw(`GET http://evil.test/ HTTP/1.1\r\nHost: ${ENDPOINT}\r\nConnection: close\r\n\r\n`),
      await sendRaw(`GET http://${ENDPOINT}/ HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`),
      await sendRaw(`CONNECT evil.test:443 HTTP/1.1\r\nHost: ${ENDPOINT}\r\n\r\n`),
    ]
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(upstream.connections).toBe(0)

    recordFigure('Bad input', 'Absolute-form and CONNECT go nowhere', '3 requests naming another host → 400; 0 upstream connections')
  })
})
