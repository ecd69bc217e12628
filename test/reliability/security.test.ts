import {chmodSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TestHome, waitFor} from '../helpers/cli.js'
import {recordFigure} from '../helpers/figures.js'
import {App, visit} from '../helpers/http.js'
import {IS_ROOT, runAsNobody} from '../helpers/other-user.js'

/** Nobody else in: permissions, no secret at rest or in `ps`. */
let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/** Tries to connect to the socket as the unprivileged user nobody; resolves with the error code, or 'connected'. */
function connectAsNobody(socket: string): Promise<string> {
  const script = `require('net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`
  return runAsNobody(script, [socket])
}

describe('the runtime directory and the socket', () => {
  it('are 0700 and 0600', async () => {
    await t.run(['supervisor', 'start'])
    expect(statSync(join(t.home, 'run')).mode & 0o777).toBe(0o700)
    expect(statSync(join(t.home, 'run', 'supervisor.sock')).mode & 0o777).toBe(0o600)
    recordFigure('Security', 'Runtime directory and socket modes', 'run/ 0700, run/supervisor.sock 0600')
  })

  it.skipIf(!IS_ROOT)('keep another local user out, each on its own (runs as root, to act as user nobody)', async () => {
    await t.run(['supervisor', 'start'])
    const socket = join(t.home, 'run', 'supervisor.sock')
    // A home others may enter, as a user's home often is: only tunnelctl's own modes stand in the way.
    chmodSync(t.home, 0o755)
    const throughDirectory = await connectAsNobody(socket)
    chmodSync(join(t.home, 'run'), 0o755)
    const throughSocket = await connectAsNobody(socket)
    chmodSync(join(t.home, 'run'), 0o700)

    expect(throughDirectory).toBe('EACCES')
    expect(throughSocket).toBe('EACCES')
    expect((await t.json(['tunnel', 'list'])).exitCode).toBe(0)
    recordFigure('Security', 'Another local user cannot connect', `user nobody: EACCES with the run directory 0700; EACCES again with it opened to 0755, from the socket's 0600 alone`)
  })
  if (!IS_ROOT) console.log('skipped "keep another local user out": it must run as root to switch to another user')
})

describe('secrets', () => {
  const TOKEN = Buffer.from(JSON.stringify({a: 'account-7d1e', t: '6ff42ae2-765d-4adf-8112-31c55c1551ef', s: 'c2VjcmV0LXNob3VsZC1uZXZlci1sZWFr'})).toString('base64')

  /** Every file tunnelctl wrote under the home, but the settings file where the user put the token. */
  function filesWritten(): Array<{file: string; text: string}> {
    return (readdirSync(t.home, {recursive: true}) as string[])
      .filter((entry) => !entry.startsWith('fake') && entry !== 'config.json' && statSync(join(t.home, entry)).isFile())
      .map((entry) => ({file: entry, text: readFileSync(join(t.home, entry), 'latin1')}))
  }

  it('no endpoint file, log, event or process argument ever holds a password or the provider token', async () => {
    const app = new App('app')
    const appPort = await app.listen()
    try {
      await t.run(['config', 'set', 'cloudflare.token', TOKEN])
      await t.run(['config', 'set', 'cloudflare.domain', 'example.test'])
      await t.run(['config', 'set', 'notify.webhook', 'http://127.0.0.1:9/hook'])

      const started = await t.json(['expose', 'start', String(appPort), '--provider', 'cloudflare', '--name', 'api', '--auth'])
      expect(started.exitCode, JSON.stringify(started.body)).toBe(0)
      const passwords = [started.body.password as string]
      const proxyPort = (await t.json(['supervisor', 'status'])).body.proxyPort
      expect((await visit(proxyPort, 'api.example.test', {password: passwords[0]})).status).toBe(200)
      expect((await visit(proxyPort, 'api.example.test', {password: 'wrong'})).status).toBe(401)
      passwords.push((await t.json(['expose', 'update', started.body.id, '--auth'])).body.password)
      expect((await visit(proxyPort, 'api.example.test', {password: passwords[1]})).status).toBe(200)

      const secrets = () => [TOKEN, ...passwords, ...passwords.map((p) => Buffer.from(`tunnelctl:${p}`).toString('base64'))]
      const leaks = () => filesWritten().flatMap(({file, text}) => secrets().filter((secret) => text.includes(secret)).map((secret) => `${file} holds ${secret.slice(0, 6)}…`))
      expect(filesWritten().map((f) => f.file)).toContain(join('expose', 'endpoints', `${started.body.id}.json`))
      expect(leaks()).toEqual([])

      const [cloudflared] = t.fakeRuns()
      expect(cloudflared.tokenFrom).toBe('env')
      const argv = t.processes().map((p) => p.cmdline)
      expect(argv.filter((line) => line.includes(TOKEN))).toEqual([])

      // A crash and a restart put the process's last lines in events and the log too.
      process.kill(cloudflared.pid, 'SIGKILL')
      await waitFor('the restart', () => t.fakeRuns().length === 2, 15_000)
      expect(t.processes().filter((p) => p.cmdline.includes(TOKEN))).toEqual([])
      await t.run(['tunnel', 'start', '3000'])
      await t.run(['events'])
      await t.run(['supervisor', 'logs'])
      await t.run(['supervisor', 'stop'])
      await t.run(['expose', 'list'])
      await t.run(['expose', 'stop', started.body.id])
      await t.run(['supervisor', 'stop'])

      const files = filesWritten().map((f) => f.file)
      expect(files).toEqual(expect.arrayContaining(['events.log', join('run', 'supervisor.log')]))
      expect(leaks()).toEqual([])
      // The search finds what is there: the token is in the settings, where the user put it.
      expect(readFileSync(join(t.home, 'config.json'), 'utf8')).toContain(TOKEN)
      recordFigure(
        'Security',
        'No password or token at rest or in argv',
        `the endpoint file while it ran, then ${files.length} files after (${files.join(', ')}), hold none of ${secrets().length} secrets (token, 2 passwords, their Basic headers); the token reached cloudflared through TUNNEL_TOKEN, never argv`,
      )
    } finally {
      await app.close()
    }
  })
})
