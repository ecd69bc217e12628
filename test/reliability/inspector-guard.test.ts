import {readdirSync, readFileSync, statSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome} from '../helpers/cli.js'
import {recordFigure} from '../helpers/figures.js'
import {exchangeRaw} from '../helpers/http.js'
import {ask, entrance, logIn, openInspector, tokenOf} from '../helpers/inspector.js'
import {IS_ROOT, runAsNobody} from '../helpers/other-user.js'

/** The web inspector's guard, over plain HTTP: any local user can reach its port, so nothing gets in without the token. */
let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/** What a refusal must be: the status and nothing else, no page, no data, no cookie, no hint. */
function expectBare(reply: {status: number; headers: Record<string, unknown>; body: string}, status: number, what: string) {
  expect(reply.status, what).toBe(status)
  expect(reply.body, what).toBe('')
  expect(reply.headers['set-cookie'], what).toBeUndefined()
  expect(reply.headers['content-type'], what).toBeUndefined()
}

describe('the inspector lets in only the browser that came through the URL', () => {
  it('answers 401 and nothing else without the token, with a wrong one, or with a forged cookie', async () => {
    const inspector = await openInspector(t)
    const {port} = inspector
    const cookieName = `tunnelctl-inspector-${port}`
    const attempts: Array<[string, Parameters<typeof ask>[1]]> = [
      ['the page', {path: '/'}],
      ['a script', {path: '/inspector.js'}],
      ['the list', {path: '/api/requests'}],
      ['the live list', {path: '/api/stream'}],
      ['a request', {path: '/api/requests/abc-1'}],
      ['a replay', {method: 'POST', path: '/api/requests/abc-1/replay', headers: {origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json'}, body: '{}'}],
      ['a path that does not exist', {path: '/nothing'}],
      ['a wrong token', {path: `/?token=${'A'.repeat(43)}`}],
      ['the token on another path', {path: `/api/requests?token=${tokenOf(inspector)}`}],
      ['a forged cookie', {path: '/api/requests', headers: {cookie: `${cookieName}=${tokenOf(inspector)}`}}],
    ]
    for (const [what, request] of attempts) expectBare(await ask(port, request), 401, what)

    // A target no URL can be made of, which Node's parser lets through, is one more 401, and the supervisor stays.
    const raw = await exchangeRaw(connect(port, '127.0.0.1'), `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
    expect(raw).toMatch(/^HTTP\/1\.1 401 /)
    expect(raw).toMatch(/\r\n\r\n$/)
    expect((await t.json(['supervisor', 'status'])).body.running).toBe(true)
    recordFigure('Security', 'The inspector answers nothing without its token', `${attempts.length} requests without it (the page, a script, the API, the live list, a replay, a wrong token, a forged cookie, …) and one with no URL at all → 401 with an empty body, no cookie, no content type; the supervisor stayed up`)
  })

  it('swaps the token once for an HttpOnly, SameSite=Strict cookie; the cookie then opens the page and the API', async () => {
    const inspector = await openInspector(t)
    const {port} = inspector
    const swapped = await ask(port, {path: entrance(inspector)})
    expect(swapped.status).toBe(303)
    expect(swapped.headers.location).toBe('/')
    const [setCookie] = swapped.headers['set-cookie'] ?? []
    expect(setCookie).toMatch(new RegExp(`^tunnelctl-inspector-${port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`))
    // The cookie carries a secret of its own: the URL's token is spent.
    expect(setCookie).not.toContain(tokenOf(inspector))
    expectBare(await ask(port, {path: entrance(inspector)}), 401, 'the same URL again')

    const cookie = setCookie.split(';')[0]
    const page = await ask(port, {headers: {cookie}})
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('<title>tunnelctl inspector</title>')
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';/)
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    const list = await ask(port, {path: '/api/requests', headers: {cookie}})
    expect(list.status).toBe(200)
    expect(list.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(list.body)).toEqual({requests: []})
    const sources = await ask(port, {path: '/api/sources', headers: {cookie}})
    expect(JSON.parse(sources.body)).toEqual({tunnels: [], endpoints: []})

    // Another `tunnelctl inspect`: another token, for another browser, on the same inspector.
    const again = await openInspector(t)
    expect(again.port).toBe(port)
    expect(await logIn(again)).toMatch(new RegExp(`^tunnelctl-inspector-${port}=`))
    recordFigure('Security', "The inspector's URL token works once", `${tokenOf(inspector).length}-character token (256 bits) → 303 to / with an HttpOnly, SameSite=Strict cookie of another secret; the same URL again → 401; the page under default-src 'self', nosniff; the API no-store`)
  })

  it('refuses a Host other than 127.0.0.1 or localhost at its port, as a rebound DNS name would send', async () => {
    const inspector = await openInspector(t)
    const {port} = inspector
    const cookie = await logIn(inspector)
    for (const host of [`attacker.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.attacker.example:${port}`]) {
      expectBare(await ask(port, {path: '/api/requests', host, headers: {cookie}}), 403, `Host ${host}`)
    }

    expect((await ask(port, {path: '/api/requests', host: `localhost:${port}`, headers: {cookie}})).status).toBe(200)
    // Nor is a URL token taken under another Host.
    const other = await openInspector(t)
    expectBare(await ask(port, {path: entrance(other), host: `attacker.example:${port}`}), 403, 'the token under another Host')
    recordFigure('Security', 'The inspector refuses a rebound host name', '4 other Hosts with the cookie, and the token under another Host → 403 with nothing else; localhost:<port> → 200')
  })

  it('refuses a replay another page asks for, though the browser sends the cookie (every port of 127.0.0.1 is the same site)', async () => {
    const inspector = await openInspector(t)
    const {port} = inspector
    const cookie = await logIn(inspector)
    const replay = (headers: Record<string, string>) =>
      ask(port, {method: 'POST', path: '/api/requests/abc-1/replay', headers: {cookie, 'content-type': 'application/json', ...headers}, body: '{}'})

    expectBare(await replay({origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site'}), 403, 'from a page on another port')
    expectBare(await replay({origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site'}), 403, 'from another site')
    expectBare(await replay({'sec-fetch-site': 'same-site'}), 403, 'same-site without Origin')
    expectBare(await replay({}), 403, 'a POST without Origin')
    expectBare(await ask(port, {path: '/api/requests', headers: {cookie, 'sec-fetch-site': 'same-site'}}), 403, 'a read from a page on another port')

    // From the page itself it gets through the guard, to the request log.
    const own = await replay({origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin'})
    expect(own.status).toBe(404)
    expect(JSON.parse(own.body).error.code).toBe('NOT_FOUND')
    recordFigure('Security', "Another page cannot drive the inspector with the user's cookie", 'replays from another port, another site, same-site or without Origin, and a same-site read → 403; from its own origin → through to the log')
  })

  it.skipIf(!IS_ROOT)('keeps another local user out: 401 without the token, and with a URL already used (runs as root, to act as user nobody)', async () => {
    const inspector = await openInspector(t)
    await logIn(inspector)
    const {port} = inspector
    const usedPath = entrance(inspector)
    const script = `
      const get = (path) => new Promise((resolve) => require('http').get({host: '127.0.0.1', port: ${port}, path}, (r) => { let b = ''; r.on('data', (c) => b += c); r.on('end', () => resolve(r.statusCode + ' ' + b.length)) }).on('error', (e) => resolve(e.code)))
      Promise.all(['/', '/api/requests', '/api/stream', ${JSON.stringify(usedPath)}].map(get)).then((answers) => console.log(JSON.stringify(answers)))`
    expect(JSON.parse(await runAsNobody(script))).toEqual(['401 0', '401 0', '401 0', '401 0'])
    recordFigure('Security', "Another local user cannot use the inspector", "user nobody: 401 and 0 bytes for the page, the API, the live list and the URL already used")
  })
  if (!IS_ROOT) console.log('skipped "keeps another local user out": it must run as root to switch to another user')

  it('never writes a token or the session secret to a file, a log or a command line', async () => {
    const inspector = await openInspector(t)
    const session = (await logIn(inspector)).split('=')[1]
    const second = await openInspector(t)
    await t.run(['supervisor', 'logs'])
    const secrets = [tokenOf(inspector), tokenOf(second), session]
    const files = (readdirSync(t.home, {recursive: true}) as string[]).filter((entry) => statSync(join(t.home, entry)).isFile())
    expect(files).toContain(join('run', 'supervisor.log'))
    const leaks = files.filter((file) => secrets.some((secret) => readFileSync(join(t.home, file), 'latin1').includes(secret)))
    expect(leaks).toEqual([])
    expect(t.processes().filter((p) => secrets.some((secret) => p.cmdline.includes(secret)))).toEqual([])
    const processes = t.processes().length
    recordFigure('Security', "The inspector's secrets are never at rest or in argv", `${files.length} files under the home and ${processes} process${processes === 1 ? '' : 'es'} hold none of 2 URL tokens and the session secret`)
  })
})
