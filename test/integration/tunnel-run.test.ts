import {execa, type ResultPromise} from 'execa'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {unusedPort} from '../helpers/ports.js'
import {socketRequest} from '../helpers/socket.js'
import {within} from '../helpers/wait.js'
import {App, sendWithHost} from '../helpers/http.js'

const URL_PATTERN = /https:\/\/[a-z]+(-[a-z]+){3}\.trycloudflare\.com/
const FORWARDING = new RegExp(`^Forwarding (${URL_PATTERN.source}) -> http://localhost:(\\d+)$`, 'm')

let t: TestHome
let port: number
let running: ResultPromise[]
beforeEach(async () => {
  t = new TestHome()
  port = await unusedPort()
  running = []
})
afterEach(async () => {
  for (const run of running) run.kill('SIGKILL')
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/** `tunnelctl tunnel run …` left running, its output gathered as it comes. */
function startRun(args: string[]) {
  const run = t.spawn(['tunnel', 'run', ...args])
  running.push(run)
  const output = {stdout: '', stderr: ''}
  run.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()))
  run.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()))
  const printed = (what: string, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout') => waitFor(what, () => pattern.exec(output[stream]), 20_000)
  const ended = async () => {
    const result = await within('tunnel run to exit', run)
    return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)}
  }

  return {run, output, printed, ended}
}

/** A node one-liner as a command's words. */
const node = (script: string) => [process.execPath, '-e', script]

async function supervisorGone(pid: number): Promise<void> {
  await waitFor(`the supervisor ${pid} to exit`, () => !isAlive(pid), 20_000)
  expect(isAlive(pid)).toBe(false)
}

describe('tunnel run in the foreground', () => {
  it('prints a line for each request through the tunnel, as `tunnel logs --follow` does, and `tunnel logs` lists them', async () => {
    const app = new App('app')
    const appPort = await app.listen()
    try {
      const fg = startRun([String(appPort)])
      const [, url] = (await fg.printed('the URL', FORWARDING))!
      const run = t.fakeRuns().at(-1)!
      const origin = Number(new URL(run.args[run.args.indexOf('--url') + 1]).port)
      const reply = await sendWithHost(origin, new URL(url).host, {path: '/orders?page=2', headers: {'cf-connecting-ip': '203.0.113.7'}})
      expect(reply.status).toBe(200)
      await fg.printed('the request line', /^\S+  \d\d:\d\d:\d\d  GET  \/orders\?page=2  200  \d+(ms|\.\d+s)  \d+ B$/m)
      const logs = await t.json(['tunnel', 'logs', String(appPort)])
      expect(logs.body).toEqual([expect.objectContaining({method: 'GET', path: '/orders?page=2', status: 200, visitor: '203.0.113.7', source: {kind: 'tunnel', port: appPort}})])
      fg.run.kill('SIGINT')
      expect((await fg.ended()).exitCode).toBe(130)
    } finally {
      await app.close()
    }
  })

  it('prints the URL, is listed, and on Ctrl-C stops the tunnel and exits 130; a supervisor already running stays', async () => {
    await t.run(['supervisor', 'start'])
    const supervisor = t.supervisorPid()!
    const fg = startRun([String(port)])
    const [, url] = (await fg.printed('the URL', FORWARDING))!
    expect(fg.output.stdout).toBe(`Forwarding ${url} -> http://localhost:${port}\nCtrl-C stops it.\n`)
    expect((await t.json(['tunnel', 'list'])).body).toEqual([expect.objectContaining({port, url, status: 'up'})])

    fg.run.kill('SIGINT')
    const result = await fg.ended()
    expect(result.exitCode).toBe(130)
    expect(result.stdout).toMatch(new RegExp(`tunnel\\.stopped  port ${port}  ${url}\n?$`))
    expect((await t.run(['tunnel', 'list'])).stdout).toBe('No active tunnels.')
    const [cloudflared] = t.fakeRuns()
    expect(isAlive(cloudflared.pid)).toBe(false)
    expect(isAlive(supervisor)).toBe(true)
  })

  it('with --json prints the tunnel as `tunnel start --json` does, then each event, as NDJSON; a crash ends it with exit 1', async () => {
    t.fakeMode('crash-after-start')
    const fg = startRun([String(port), '--json'])
    const result = await fg.ended()
    expect(result.exitCode).toBe(1)
    const lines = result.stdout.split('\n').map((line) => JSON.parse(line))
    expect(lines[0]).toEqual({
      port,
      scheme: 'http',
      url: expect.stringMatching(URL_PATTERN),
      pid: expect.any(Number),
      startedAt: expect.any(String),
      status: 'up',
      direct: false,
      auth: false,
      warnings: [`Nothing is listening on localhost:${port} yet; visitors get 502 until something does.`],
    })
    expect(lines.slice(1)).toEqual([
      expect.objectContaining({type: 'tunnel.crashed', port, url: lines[0].url, exitCode: 2}),
      {error: {code: 'TUNNEL_FAILED', message: `The tunnel on port ${port} crashed.`}},
    ])
    expect(result.stderr).toBe('')
  })

  it('says so and exits 1 when the tunnel is stopped by someone else', async () => {
    const fg = startRun([String(port)])
    await fg.printed('the URL', FORWARDING)
    expect((await t.run(['tunnel', 'stop', String(port)])).exitCode).toBe(0)
    const result = await fg.ended()
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`Error: The tunnel on port ${port} was stopped by \`tunnelctl tunnel stop\` or the supervisor's stop.`)
  })
})

describe('tunnel run on a terminal', () => {
  /** `tunnelctl tunnel run …` on a pseudo-terminal, as a person at it runs it: `type` types at it. */
  function onTerminal(args: string[]) {
    const command = [process.execPath, BIN, 'tunnel', 'run', ...args].map((word) => `'${word}'`).join(' ')
    const terminal = execa('script', ['-qec', command, '/dev/null'], {env: t.env, extendEnv: false, reject: false, stdin: 'pipe'})
    running.push(terminal)
    const screen = {text: ''}
    terminal.stdout!.on('data', (chunk: Buffer) => (screen.text += chunk.toString()))
    const shows = (what: string, text: string) => waitFor(what, () => screen.text.includes(text), 20_000)
    return {screen, shows, type: (keys: string) => terminal.stdin!.write(keys), ended: () => within('tunnel run on the terminal to exit', terminal)}
  }

  it('stops on Ctrl-C typed at the terminal, exit 130', async () => {
    const terminal = onTerminal([String(port)])
    await terminal.shows('the URL on the terminal', 'Ctrl-C stops it.')
    terminal.type('\u0003')
    expect((await terminal.ended()).exitCode).toBe(130)
    expect(terminal.screen.text).toMatch(/tunnel\.stopped {2}port \d+ {2}https:/)
    expect((await t.run(['tunnel', 'list'])).stdout).toMatch(/^No tunnels are running|^No active tunnels\.$/)
  })

  it('gives the command the terminal to read from, and Ctrl-C ends it with 130', async () => {
    const terminal = onTerminal([String(port), '--', 'sh', '-c', 'read line; echo "read: $line"; echo ready; sleep 60'])
    await terminal.shows('the command to start', 'Forwarding https://')
    terminal.type('hello\n')
    await terminal.shows('the command to read the line', 'ready')
    expect(terminal.screen.text).toContain('read: hello')
    terminal.type('\u0003')
    expect((await terminal.ended()).exitCode).toBe(130)
  })

  it('--help shows both forms, with examples', async () => {
    const help = await t.run(['tunnel', 'run', '--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain(
      '$ tunnelctl tunnel run TARGET [--timeout <seconds>] [--qr] [--open]\n    [--json]\n  $ tunnelctl tunnel run TARGET [--timeout <seconds>] -- CMD [ARGS...]',
    )
    const examples = help.stdout.slice(help.stdout.indexOf('EXAMPLES'))
    expect(examples).toContain('$ tunnelctl tunnel run 3000\n')
    expect(examples).toContain('$ tunnelctl tunnel run 3000 -- npm run e2e')
  })
})

describe('a tunnel held by the run', () => {
  it('is stopped when tunnelctl is SIGKILLed, and the supervisor it started exits', async () => {
    const fg = startRun([String(port)])
    await fg.printed('the URL', FORWARDING)
    const supervisor = t.supervisorPid()!
    const [cloudflared] = t.fakeRuns()
    fg.run.kill('SIGKILL')
    await fg.ended()
    await waitFor('cloudflared to be stopped', () => !isAlive(cloudflared.pid), 20_000)
    expect(isAlive(cloudflared.pid)).toBe(false)
    await supervisorGone(supervisor)
    expect(t.eventsLog().map((event) => event.type)).toEqual(['supervisor.started', 'tunnel.started', 'tunnel.stopped', 'supervisor.stopped'])
  })

  it('of a supervisor that was already running is stopped when tunnelctl is SIGKILLed, and the supervisor stays', async () => {
    await t.run(['supervisor', 'start'])
    const supervisor = t.supervisorPid()!
    const fg = startRun([String(port)])
    await fg.printed('the URL', FORWARDING)
    fg.run.kill('SIGKILL')
    await fg.ended()
    await waitFor('the tunnel to be stopped', async () => (await t.run(['tunnel', 'list'])).stdout === 'No active tunnels.', 20_000)
    expect(isAlive(supervisor)).toBe(true)
  })

  it('keeps a one-off supervisor that holds something else: a tunnel started meanwhile', async () => {
    const fg = startRun([String(port)])
    await fg.printed('the URL', FORWARDING)
    const supervisor = t.supervisorPid()!
    expect((await t.run(['tunnel', 'start', String(await unusedPort())])).exitCode).toBe(0)
    fg.run.kill('SIGINT')
    expect((await fg.ended()).exitCode).toBe(130)
    expect((await t.json(['tunnel', 'list'])).body).toHaveLength(1)
    expect(isAlive(supervisor)).toBe(true)
  })
})

describe('tunnel run around a command', () => {
  it('gives the command TUNNEL_URL and its stdout, passes its exit status on, and leaves nothing behind', async () => {
    for (const status of [0, 3]) {
      const result = await t.run(['tunnel', 'run', String(port), '--', 'sh', '-c', `echo "$TUNNEL_URL"; tunnelctl() { "${process.execPath}" "$BIN" "$@"; }; tunnelctl tunnel list --json; exit ${status}`], {
        BIN,
      })
      expect(result.exitCode).toBe(status)
      const [url, ...listed] = result.stdout.split('\n')
      expect(url).toMatch(URL_PATTERN)
      expect(JSON.parse(listed.join('\n'))).toEqual([expect.objectContaining({port, url, status: 'up'})])
      expect(result.stderr).toBe(
        `Warning: Nothing is listening on localhost:${port} yet; visitors get 502 until something does.\nForwarding ${url} -> http://localhost:${port}`,
      )
      const supervisor = Number(t.eventsLog().filter((event) => event.type === 'supervisor.started').at(-1)!.pid)
      await supervisorGone(supervisor)
      for (const run of t.fakeRuns()) expect(isAlive(run.pid)).toBe(false)
    }
  })

  it('exits 128+n when the command is ended by signal n (and takes its flags before `--`)', async () => {
    const result = await t.run(['tunnel', 'run', String(port), '--timeout', '60', '--', 'sh', '-c', 'kill -USR1 $$'])
    expect(result.exitCode).toBe(128 + 10)
  })

  it('forwards SIGTERM to the command and exits with what the command exits with', async () => {
    await t.run(['supervisor', 'start'])
    const script = "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7) }); console.log('ready'); setInterval(() => {}, 1000)"
    const run = startRun([String(port), '--', ...node(script)])
    await run.printed('the command to start', /^ready$/m)
    run.run.kill('SIGTERM')
    const result = await run.ended()
    expect(result.stdout).toBe('ready\ngot SIGTERM')
    expect(result.exitCode).toBe(7)
    expect((await t.run(['tunnel', 'list'])).stdout).toBe('No active tunnels.')
  })

  it('runs nothing and exits 1 with the usual error when the tunnel cannot start', async () => {
    t.fakeMode('api-unreachable')
    const marker = join(t.home, 'ran')
    const result = await t.run(['tunnel', 'run', String(port), '--', 'touch', marker])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^Error: cloudflared exited with code 1 before the tunnel was up/)
    expect(existsSync(marker)).toBe(false)
    expect(result.stdout).toBe('')
  })

  it('reports a crash of the tunnel on stderr while the command keeps running', async () => {
    t.fakeMode('crash-after-start')
    const go = join(t.home, 'go')
    const script = `const {existsSync} = require('fs'); const wait = setInterval(() => { if (existsSync(${JSON.stringify(go)})) { clearInterval(wait); console.log('still running') } }, 20)`
    const run = startRun([String(port), '--', ...node(script)])
    await run.printed('the crash to be reported', /The command keeps running/, 'stderr')
    writeFileSync(go, '')
    const result = await run.ended()
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe('still running')
    expect(result.stderr).toMatch(
      new RegExp(`Warning: The tunnel on port ${port} crashed\\. The command keeps running\\.\n\\S+  tunnel\\.crashed  port ${port}  \\S+  exited with code 2\n {4}\\| `),
    )
  })

  it('exits 127 when the command does not exist', async () => {
    const result = await t.run(['tunnel', 'run', String(port), '--', 'no-such-command-anywhere'])
    expect(result.exitCode).toBe(127)
    expect(result.stderr).toContain('Warning: Could not run no-such-command-anywhere')
  })
})

describe('bad input to tunnel run', () => {
  it.each([
    [['3000', 'npm', 'test'], 'Put `--` before the command to run'],
    [['3000', '--'], 'Nothing follows `--`'],
    [['3000', '--json', '--', 'true'], '--json is for `tunnel run` without a command'],
    [['abc'], '"abc" is not a target. Give a local port as 3000, localhost:3000'],
    [['3000', '--qr', '--json'], '--qr is for a person at a terminal, --json for a script'],
  ])('%j exits 2 and starts nothing', async (args, message) => {
    const result = await t.run(['tunnel', 'run', ...args])
    expect(result.exitCode).toBe(2)
    // With --json, the error is a JSON document on stdout, as for every command.
    expect(`${result.stderr}${result.stdout}`).toContain(message)
    expect(t.supervisorPid()).toBeUndefined()
  })

  it.each([
    ['"held" not a boolean', {port: 3000, held: 'yes'}, '"held" must be true or false'],
    ['"oneOff" without "held"', {port: 3000, oneOff: true}, '"oneOff" is only for a held tunnel'],
  ])('the socket refuses %s', async (_what, body, message) => {
    await t.run(['supervisor', 'start'])
    const socket = join(t.home, 'run', 'supervisor.sock')
    const reply = await socketRequest(socket, 'POST', '/v1/tunnels', {body: JSON.stringify(body), headers: {'content-type': 'application/json'}})
    expect(reply.status).toBe(400)
    expect(reply.body.error.message).toContain(message)
    expect(t.fakeRuns()).toEqual([])
  })
})
