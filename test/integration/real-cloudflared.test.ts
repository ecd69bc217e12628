import {constants} from 'node:fs'
import {accessSync} from 'node:fs'
import {createServer} from 'node:http'
import {delimiter, join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {FIXTURE_BIN, TestHome} from '../helpers/cli.js'

const realPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && dir !== FIXTURE_BIN)
const realCloudflared = realPath.map((dir) => join(dir, 'cloudflared')).find((file) => {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
})

describe.skipIf(!realCloudflared)('with the real cloudflared (runs only where one is on PATH)', () => {
  let t: TestHome | undefined
  afterEach(async () => {
    if (t) expect(await t.cleanup(), 'processes left behind').toEqual([])
  })

  it('starts a quick tunnel to a local server, lists it and stops it', async () => {
    t = new TestHome({PATH: realPath.join(delimiter)})
    const server = createServer((_, res) => res.end('hello from tunnelctl')).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const port = (server.address() as {port: number}).port
    try {
      const start = await t.json(['tunnel', 'start', String(port), '--timeout', '60'])
      expect(start.exitCode).toBe(0)
      expect(start.body.url).toMatch(/^https:\/\/[a-z0-9-]+\.trycloudflare\.com$/)
      expect((await t.json(['tunnel', 'list'])).body).toHaveLength(1)
      expect((await t.run(['tunnel', 'stop', String(port)])).exitCode).toBe(0)
    } finally {
      server.close()
    }
  }, 120_000)
})
