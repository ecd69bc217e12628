import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {type IncomingMessage, request} from 'node:http'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {logIn, openInspector, tokenOf} from '../helpers/inspector.js'
import {findFreeLoopbackPort} from '../../src/ports.js'

/**
 * `tunnelctl inspect` and the inspector's life in the supervisor. Its guard is proven in
 * test/reliability/inspector-guard.test.ts, its page in inspector-browser.test.ts.
 */
let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

describe('tunnelctl inspect', () => {
  it('starts the supervisor and its inspector, and prints a URL on 127.0.0.1 with a token of at least 128 bits', async () => {
    const human = await t.run(['inspect', '--no-open'])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stdout.replace(/:\d+\/\?token=[\w-]+/, ':<port>/?token=<token>')).toBe('Inspector: http://127.0.0.1:<port>/?token=<token>')
    const inspector = await openInspector(t)
    expect(inspector.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${inspector.port}/\\?token=[A-Za-z0-9_-]{43}$`))
    // One inspector for the supervisor's life; each call a token of its own.
    expect(human.stdout).toContain(`:${inspector.port}/`)
    expect(human.stdout).not.toContain(tokenOf(inspector))
  })

  it('opens the URL in the browser on a terminal (the open package: xdg-open, then $BROWSER), and not with --no-open or --json', async () => {
    const opened = join(t.home, 'opened')
    const browser = join(t.home, 'browser')
    writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${opened}'\n`)
    chmodSync(browser, 0o755)
    const env = {...t.env, BROWSER: browser}
    for (const args of [['inspect', '--no-open'], ['inspect', '--json']]) expect((await t.runOnTerminal(args, env)).exitCode).toBe(0)
    const shown = await t.runOnTerminal(['inspect'], env)
    expect(shown.exitCode, shown.stdout).toBe(0)
    const url = /Inspector: (\S+)/.exec(shown.stdout)?.[1]
    await waitFor('the browser to be given the URL', () => existsSync(opened) && readFileSync(opened, 'utf8').trim())
    expect(readFileSync(opened, 'utf8')).toBe(`${url}\n`)
  })

  it('keeps an idle supervisor while a page holds the live list open, and lets it go after', async () => {
    await t.run(['config', 'set', 'supervisor.idleTimeout', '1'])
    const inspector = await openInspector(t)
    const cookie = await logIn(inspector)
    const pid = t.supervisorPid()!
    const stream = await new Promise<IncomingMessage>((resolve, reject) =>
      request({host: '127.0.0.1', port: inspector.port, path: '/api/stream', headers: {cookie}, agent: false}, resolve).on('error', reject).end(),
    )
    expect(stream.headers['content-type']).toBe('text/event-stream')
    // Several of its idle checks (once a second, past a timeout of 1 s) go by.
    await delay(4000)
    expect(isAlive(pid), 'the supervisor exited with a page watching').toBe(true)
    stream.destroy()
    await waitFor('the idle supervisor to exit once the page has gone', () => !isAlive(pid), 15_000)
  })

  it('listens on inspect.port when it is set, and refuses a value that is not a port', async () => {
    const port = await findFreeLoopbackPort()
    expect((await t.run(['config', 'set', 'inspect.port', String(port)])).exitCode).toBe(0)
    expect((await openInspector(t)).port).toBe(port)
    const bad = await t.run(['config', 'set', 'inspect.port', '70000'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('inspect.port must be a port from 1 to 65535, or 0 for any free one, not "70000".')
  })
})
