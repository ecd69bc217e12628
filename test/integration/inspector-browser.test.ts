import {execa} from 'execa'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, request, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type BrowserContext, chromium, type Locator} from 'playwright-core'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {openInspector} from '../helpers/inspector.js'
import {WAIT_MS, within} from '../helpers/wait.js'

/** Debian's chromium: CI installs it (.ci/run); without it this test says so and is skipped. */
const CHROMIUM = '/usr/bin/chromium'
const HAS_CHROMIUM = existsSync(CHROMIUM)
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** What the exposed app got. */
interface Seen {
  method: string
  url: string
  body: Buffer
}

/** The app behind the endpoint: notes every request, answers JSON saying how many it has seen. */
class NotingApp {
  readonly seen: Seen[] = []
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      this.seen.push({method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks)})
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ok: true, seen: this.seen.length}))
    })
  })

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)))
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A visitor's request through the local provider's listener. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body: string | Buffer): Promise<number> {
  const answered = new Promise<number>((resolve, reject) => {
    const outgoing = request({host: '127.0.0.1', port, method, path, headers: {host: `inspector.test:${port}`, ...headers}, agent: false}, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
  return within(`the endpoint to answer ${method} ${path}`, answered)
}

/** Waits for the locator to show, failing with what was expected on the page. */
async function see(what: string, locator: Locator): Promise<Locator> {
  try {
    await locator.first().waitFor({state: 'visible', timeout: WAIT_MS})
  } catch (error) {
    throw new Error(`the inspector page did not show ${what}: ${(error as Error).message.split('\n')[0]}`)
  }

  return locator
}

let t: TestHome
let app: NotingApp
let context: BrowserContext | undefined
let profile: string
beforeEach(() => {
  t = new TestHome()
  app = new NotingApp()
  profile = mkdtempSync(join(tmpdir(), 'tc-chromium-'))
})
afterEach(async () => {
  await context?.close()
  context = undefined
  await app.close()
  rmSync(profile, {recursive: true, force: true})
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

describe('the inspector in a browser', () => {
  it.skipIf(!HAS_CHROMIUM)('shows a request live, opens it, replays it as it was and with an edited body, and shows a binary body as hex', async () => {
    const appPort = await app.listen()
    const lanPort = await t.localProviderOnLoopback('inspector.test')
    const started = await t.json(['expose', 'start', String(appPort), '--provider', 'local', '--name', 'shop'])
    expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
    const inspector = await openInspector(t)

    context = await chromium.launchPersistentContext(profile, {executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: {width: 1400, height: 900}})
    const page = context.pages()[0] ?? (await context.newPage())
    const problems: string[] = []
    // A Content-Security-Policy violation is reported as a console error: the page must cause none.
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()))
    page.on('pageerror', (error) => problems.push(error.message))
    await page.goto(inspector.url)
    // The token leaves the address bar at once; the cookie carries the session.
    expect(page.url()).toBe(`http://127.0.0.1:${inspector.port}/`)
    await see('that its live list is connected', page.locator('#connection.live'))

    // A visitor's request, with things in it that would be markup or shell if not kept as text.
    const json = JSON.stringify({note: "it's $(touch /tmp/pwned) `id`", n: 1})
    expect(await send(lanPort, 'POST', '/orders?since=1', {'content-type': 'application/json', 'x-test': '<b>bold</b>'}, json)).toBe(200)
    const orders = page.locator('#requests tbody tr', {hasText: '/orders?since=1'})
    await see('the request, without a reload', orders)
    expect(await orders.locator('.source').textContent()).toBe('shop')
    expect(await orders.locator('.status').textContent()).toBe('200')

    await orders.first().click()
    await see('the detail of the request', page.locator('#detail-title', {hasText: 'POST /orders?since=1'}))
    expect(await page.locator('#request-headers').textContent()).toContain('<b>bold</b>')
    expect(await page.locator('#detail b').count()).toBe(0)
    const requestBody = page.locator('#request-body pre')
    expect(await requestBody.getAttribute('data-view')).toBe('json')
    expect(await requestBody.textContent()).toBe(JSON.stringify(JSON.parse(json), null, 2))
    expect(await page.locator('#response-body pre').textContent()).toBe(JSON.stringify({ok: true, seen: 1}, null, 2))
    const facts = await page.locator('#detail-facts').textContent()
    expect(facts).toMatch(/First byte\d+ ms/)
    expect(facts).toMatch(/Total\d+ ms/)
    expect(facts).toContain(`${json.length} B in`)

    // Copy-as-curl: run as it is shown, it sends the same request to the app.
    const curl = (await page.locator('#curl').textContent())!
    expect(curl).toContain(`'http://localhost:${appPort}/orders?since=1'`)
    const ran = await execa('bash', ['-c', curl], {reject: false})
    expect(ran.exitCode, ran.stderr).toBe(0)
    expect(app.seen[1]).toMatchObject({method: 'POST', url: '/orders?since=1'})
    expect(app.seen[1].body.toString()).toBe(json)
    expect(existsSync('/tmp/pwned')).toBe(false)

    await page.locator('#replay').click()
    await see('that the replay was answered', page.locator('#replay-status', {hasText: 'Replayed: 200'}))
    await waitFor('the app to get the replay', () => app.seen.length === 3)
    expect(app.seen[2].body.toString()).toBe(json)
    await waitFor('a row for the replay', async () => (await orders.count()) === 2)

    await page.locator('#replay-body').fill('{"edited": true}')
    await page.locator('#replay-edited').click()
    await waitFor('the app to get the edited replay', () => app.seen.length === 4)
    expect(app.seen[3]).toMatchObject({method: 'POST', url: '/orders?since=1'})
    expect(app.seen[3].body.toString()).toBe('{"edited": true}')
    await waitFor('a row for the edited replay', async () => (await orders.count()) === 3)

    // A body that is not text is shown in hex.
    const binary = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x7f, 0x80, 0x41, 0x42])
    expect(await send(lanPort, 'PUT', '/upload', {'content-type': 'application/octet-stream'}, binary)).toBe(200)
    const upload = page.locator('#requests tbody tr', {hasText: '/upload'})
    await see('the upload', upload)
    await upload.click()
    await see('the detail of the upload', page.locator('#detail-title', {hasText: 'PUT /upload'}))
    expect(await requestBody.getAttribute('data-view')).toBe('hex')
    expect(await requestBody.textContent()).toBe('00000000  00 01 02 ff fe 89 50 4e  47 0d 0a 1a 0a 7f 80 41  |......PNG......A|\n00000010  42                                                |B|')
    // Its curl sends the same bytes.
    const binaryCurl = await execa('bash', ['-c', (await page.locator('#curl').textContent())!], {reject: false})
    expect(binaryCurl.exitCode, binaryCurl.stderr).toBe(0)
    expect(app.seen.at(-1)).toMatchObject({method: 'PUT', url: '/upload'})
    expect(app.seen.at(-1)!.body.equals(binary), 'the bytes curl sent').toBe(true)

    // Filters: by path text, then by method.
    await page.locator('#filter-path').fill('upload')
    await waitFor('the path filter to leave the upload alone', async () => (await page.locator('#requests tbody tr').count()) === 1)
    await page.locator('#filter-path').fill('')
    await page.locator('#filter-method').selectOption('POST')
    await waitFor('the method filter to leave the three POSTs', async () => (await page.locator('#requests tbody tr').count()) === 3)
    await page.locator('#filter-method').selectOption('')
    await orders.first().click()
    await see('the detail of the edited replay', page.locator('#detail-facts', {hasText: 'Replay of'}))

    const screenshot = join(tmpdir(), `tunnelctl-inspector-${process.pid}.png`)
    await page.screenshot({path: screenshot, fullPage: true})
    console.log(`inspector screenshot: ${screenshot}`)
    expect(problems).toEqual([])

    // Its endpoint gone, a request's detail says why it cannot be shown.
    expect((await t.run(['expose', 'stop', started.body.id])).exitCode).toBe(0)
    await upload.click()
    await see('why the upload cannot be shown', page.locator('#detail-title', {hasText: 'No request'}))
    expect(await page.locator('#replay').isVisible()).toBe(false)
  })
  if (!HAS_CHROMIUM) console.log(`skipped "the inspector in a browser": no chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
})
