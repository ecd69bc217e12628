import {execa} from 'execa'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, isAlive, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {WAIT_MS} from '../helpers/wait.js'

/** The README's CI recipe as written: the one sh block of its "In CI" section. */
function readmeRecipe(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = /^## In CI\n([\s\S]*?)^## /m.exec(readme)?.[1]
  const blocks = [...(section ?? '').matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1])
  expect(blocks, 'sh blocks in the README\'s "In CI" section').toHaveLength(1)
  return blocks[0]
}

let t: TestHome
let shims: string
let record: string
beforeEach(() => {
  t = new TestHome()
  record = join(t.home, 'e2e-saw')
  // `npx --yes tunnelctl` is this checkout's tunnelctl, and `npm run e2e` records the URL it was given
  // and exits with $E2E_STATUS: the recipe runs as written, with nothing published or installed.
  shims = join(t.home, 'shims')
  mkdirSync(shims)
  const shim = (name: string, script: string) => {
    writeFileSync(join(shims, name), `#!/bin/sh\n${script}\n`)
    chmodSync(join(shims, name), 0o755)
  }

  shim('npx', `[ "$1 $2" = "--yes tunnelctl" ] || { echo "npx shim: unexpected $*" >&2; exit 99; }\nshift 2\nexec "${process.execPath}" "${BIN}" "$@"`)
  shim('npm', `[ "$*" = "run e2e" ] || { echo "npm shim: unexpected $*" >&2; exit 98; }\nprintf '%s' "$TUNNEL_URL" > "${record}"\nexit "\${E2E_STATUS:-0}"`)
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function runRecipe(env: NodeJS.ProcessEnv = {}) {
  const result = await execa('sh', ['-c', readmeRecipe()], {
    env: {...t.env, PATH: [shims, t.env.PATH].join(delimiter), ...env},
    extendEnv: false,
    reject: false,
    timeout: WAIT_MS,
  })
  expect(result.timedOut, 'the recipe to finish').toBe(false)
  return result
}

/** The supervisor the recipe started has exited: a one-off leaves nothing. */
async function supervisorGone(): Promise<void> {
  const started = t.eventsLog().find((event) => event.type === 'supervisor.started')
  expect(started, 'a supervisor was started').toBeDefined()
  await waitFor('the supervisor to exit', () => !isAlive(started!.pid), 20_000)
  expect(isAlive(started!.pid)).toBe(false)
}

describe("the README's CI recipe, run as written against the fake cloudflared", () => {
  it('is a one-liner through npx --yes', () => {
    expect(readmeRecipe().trim().split('\n')).toHaveLength(1)
    expect(readmeRecipe()).toContain('npx --yes tunnelctl tunnel run')
  })

  it('gives the tests the public URL and passes, leaving nothing running', async () => {
    const result = await runRecipe()
    expect(result.exitCode, result.stderr).toBe(0)
    expect(readFileSync(record, 'utf8')).toMatch(/^https:\/\/[a-z]+(-[a-z]+){3}\.trycloudflare\.com$/)
    await supervisorGone()
  })

  it('fails with the tests', async () => {
    const result = await runRecipe({E2E_STATUS: '3'})
    expect(result.exitCode).toBe(3)
    expect(existsSync(record)).toBe(true)
    await supervisorGone()
  })

  it('fails loudly, running no test, when the tunnel cannot start', async () => {
    t.fakeMode('api-unreachable')
    const result = await runRecipe()
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^Error: cloudflared exited with code 1 before the tunnel was up/m)
    expect(existsSync(record), 'the tests ran').toBe(false)
    await supervisorGone()
  })
})
