import {once} from 'node:events'
import {connect, type Socket} from 'node:net'
import {setTimeout as delay} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome} from '../helpers/cli.js'
import {median, ms, recordFigure} from '../helpers/figures.js'
import {App, basicAuthorization, sendWithHost} from '../helpers/http.js'

/** Wrong passwords against one endpoint, each from its own address, while the supervisor is watched from elsewhere. */
let t: TestHome
let app: App
let lanPort: number
const LAN_HOST = 'devbox.test'

beforeEach(async () => {
  t = new TestHome()
  app = new App('app')
  // Each visitor connects from an address of its own in 127/8.
  lanPort = await t.localProviderOnLoopback(LAN_HOST)
})
afterEach(async () => {
  await app.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

interface Answer {
  status: number
  retryAfter: number | undefined
  body: string
}

/** Starts an endpoint with auth through the local provider, whose connections keep the visitor's own address. */
async function exposeWithAuth(): Promise<string> {
  const started = await t.json(['expose', 'start', String(await app.listen()), '--provider', 'local', '--auth'])
  expect(started.exitCode, started.stderr).toBe(0)
  return started.body.password as string
}

/** 127.0.0.<first + index>: a different visitor for each index. */
function visitorAddress(index: number, first = 2): string {
  return `127.0.0.${first + index}`
}

async function connectFrom(localAddress: string): Promise<Socket> {
  const socket = connect({port: lanPort, host: '127.0.0.1', localAddress})
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

function loginRequest(authorization: string): string {
  return `GET / HTTP/1.1\r\nHost: ${LAN_HOST}:${lanPort}\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`
}

function parseAnswer(raw: string): Answer {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? 0)
  const retryAfter = /\r\nretry-after: *(\d+)\r\n/i.exec(raw)?.[1]
  return {status, retryAfter: retryAfter === undefined ? undefined : Number(retryAfter), body: raw.slice(raw.indexOf('\r\n\r\n') + 4)}
}

/**
 * Sends a login on a connected socket and reads the answer until the proxy closes the connection, as
 * `Connection: close` asks. The visitor does not close its side first: a connection that hangs up is
 * one whose answer nobody waits for.
 */
function login(socket: Socket, authorization: string): Promise<Answer> {
  let raw = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (raw += chunk))
  socket.write(loginRequest(authorization))
  return new Promise((resolve) => socket.on('close', () => resolve(parseAnswer(raw))))
}

async function loginFrom(address: string, authorization: string): Promise<Answer> {
  return login(await connectFrom(address), authorization)
}

/** Connects every visitor first, then sends every request in the same turn, so that they reach the proxy together. */
async function loginsAtOnce(authorizations: string[], first = 2): Promise<Answer[]> {
  const sockets = await Promise.all(authorizations.map((_, index) => connectFrom(visitorAddress(index, first))))
  return Promise.all(sockets.map((socket, index) => login(socket, authorizations[index])))
}

function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const {status} of answers) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

const wrong = (index: number) => basicAuthorization('tunnelctl', `wrong-${index}`)

describe('password checks under a crowd of wrong passwords', () => {
  it('keeps answering other endpoints and the CLI while 80 wrong passwords arrive at once from 80 addresses, and turns away what it cannot check soon', async () => {
    await exposeWithAuth()
    const other = new App('other')
    try {
      const otherStarted = await t.json(['expose', 'start', String(await other.listen()), '--provider', 'cloudflare'])
      expect(otherStarted.exitCode, otherStarted.stderr).toBe(0)
      const otherHost = new URL(otherStarted.body.url as string).host
      const {body: status} = await t.json(['supervisor', 'status'])
      // What cloudflared does for a visitor of the other endpoint: a request to the proxy, Host and all.
      const visitOther = async () => {
        const started = performance.now()
        const reply = await sendWithHost(status.proxyPort as number, otherHost)
        expect(reply.status, reply.body).toBe(200)
        return performance.now() - started
      }
      await visitOther()

      let attackOver = false
      const attack = loginsAtOnce(Array.from({length: 80}, (_, index) => wrong(index))).finally(() => (attackOver = true))
      const listing = (async () => {
        const started = performance.now()
        const result = await t.run(['tunnel', 'list'])
        return {result, ms: performance.now() - started}
      })()
      // A visit every 25 ms whatever happened to the one before, so that a stalled proxy shows in every one of them.
      const visits: Promise<number>[] = []
      while (!attackOver || visits.length < 10) {
        visits.push(visitOther())
        await delay(25)
      }
      const [answers, list, latencies] = await Promise.all([attack, listing, Promise.all(visits)])

      expect(list.result.exitCode, list.result.stderr).toBe(0)
      // The event loop is the property here, not speed: bcrypt on it took seconds per visit before.
      expect(median(latencies), `median time of ${latencies.length} visits to another endpoint during the attack (ms): the supervisor's event loop must stay free`).toBeLessThan(100)

      const counts = tally(answers)
      const busy = answers.filter((answer) => answer.status === 429)
      expect(Object.keys(counts).sort(), 'every wrong password is refused: 401 once checked, 429 when too many checks are waiting').toEqual(
        busy.length > 0 ? ['401', '429'] : ['401'],
      )
      expect(busy.length, `80 wrong passwords at once should overflow the checks in flight and waiting; got ${JSON.stringify(counts)}`).toBeGreaterThan(0)
      for (const answer of busy) {
        expect(answer.retryAfter, 'a 429 for too many checks at once says when to come back').toBe(1)
        expect(answer.body).toMatch(/^tunnelctl: too many password checks at once/)
      }

      recordFigure(
        'Bad input',
        'Wrong passwords from many addresses do not stall the proxy',
        `80 wrong at once from 80 addresses → ${counts[401]} × 401 (checked off the event loop), ${busy.length} × 429 at once; another endpoint's median ${ms(median(latencies))} over ${latencies.length} visits meanwhile; \`tunnel list\` answered in ${ms(list.ms)}`,
      )
    } finally {
      await other.close()
    }
  })

  it('turns away unknown credentials at an endpoint that had 30 wrong passwords within a minute, from any address, and lets a remembered one in', async () => {
    const password = await exposeWithAuth()
    const right = basicAuthorization('tunnelctl', password)
    expect((await loginFrom(visitorAddress(0, 200), right)).status, 'the right password, remembered from now on').toBe(200)

    const refused: Answer[] = []
    // In small groups, so that the check queue never overflows: this is about failures, not load.
    for (let group = 0; group < 6; group++) refused.push(...(await loginsAtOnce(Array.from({length: 5}, (_, index) => wrong(group * 5 + index)), 2 + group * 5)))
    expect(tally(refused), 'one wrong password from each of 30 addresses').toEqual({401: 30})

    const newVisitorWrong = await loginFrom(visitorAddress(40), wrong(40))
    const newVisitorRemembered = await loginFrom(visitorAddress(41), right)
    // The same password spelled otherwise is a header the proxy has not seen: it would need bcrypt.
    const newVisitorUnknownSpelling = await loginFrom(visitorAddress(42), right.replace(/^Basic /, 'basic '))

    expect(newVisitorWrong.status, newVisitorWrong.body).toBe(429)
    expect(newVisitorWrong.body).toMatch(/^tunnelctl: too many wrong passwords at this endpoint/)
    expect(newVisitorWrong.retryAfter).toSatisfy((seconds: number) => Number.isInteger(seconds) && seconds >= 1 && seconds <= 60)
    expect(newVisitorRemembered.status, 'a remembered credential still gets in').toBe(200)
    expect(newVisitorUnknownSpelling.status, 'an unknown credential waits for the window, right or not').toBe(429)

    recordFigure(
      'Bad input',
      'Wrong passwords are capped per endpoint, across addresses',
      `1 wrong from each of 30 addresses → 30 × 401; then a new address: wrong → 429 (Retry-After ${newVisitorWrong.retryAfter} s), the remembered password → 200, the same password spelled anew → 429`,
    )
  })
})
