import {readdirSync, readFileSync, statSync} from 'node:fs'
import {connect} from 'node:net'
import {join, relative} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TARGET_FORMS} from '../../src/protocol/local-target.js'
import {TestHome} from '../helpers/cli.js'
import {ms, recordFigure} from '../helpers/figures.js'
import {socketRequest} from '../helpers/socket.js'
import {within} from '../helpers/wait.js'

/**
 * Bad input on the control socket and on the command line: each gets a 4xx or a clear error with
 * exit 2, and nothing else happens. (Bad input at the proxy: proxy-input.test.ts.)
 */
let t: TestHome
let socket: string
beforeEach(() => {
  t = new TestHome()
  socket = join(t.home, 'run', 'supervisor.sock')
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

async function stillServes(): Promise<void> {
  expect((await socketRequest(socket, 'GET', '/v1/tunnels')).status).toBe(200)
}

describe('the control socket', () => {
  beforeEach(async () => {
    await t.run(['supervisor', 'start'])
  })

  it('answers curl-style requests without a version header', async () => {
    const created = await socketRequest(socket, 'POST', '/v1/tunnels', {body: JSON.stringify({port: 3000}), headers: {'content-type': 'application/json'}})
    expect(created.status).toBe(201)
    expect(created.body.tunnel).toMatchObject({port: 3000, status: 'up'})
    expect((await socketRequest(socket, 'GET', '/v1/tunnels')).body.tunnels).toHaveLength(1)
    expect((await socketRequest(socket, 'DELETE', '/v1/tunnels/3000')).status).toBe(200)
  })

  it.each([
    ['Origin', {origin: 'http://evil.test'}],
    ['Referer', {referer: 'http://evil.test/page'}],
  ])('refuses browser-originated requests, carrying %s, with 403', async (what, headers) => {
    const reply = await socketRequest(socket, 'POST', '/v1/tunnels', {body: JSON.stringify({port: 3000}), headers})
    expect(reply.status).toBe(403)
    expect((await socketRequest(socket, 'GET', '/v1/tunnels')).body.tunnels).toEqual([])
    recordFigure('Bad input', `Control socket: a request carrying ${what}`, `${reply.status}; nothing started`)
  })

  it.each([
    ['malformed JSON', '/v1/tunnels', '{"port": 30', 400, 'not valid JSON'],
    ['a wrong type', '/v1/tunnels', '{"port": "3000"}', 400, '"port" must be an integer'],
    ['an unknown field', '/v1/tunnels', '{"port": 3000, "host": "x"}', 400, 'Unknown field "host"'],
    ['a bad timeout', '/v1/tunnels', '{"port": 3000, "timeoutMs": -1}', 400, '"timeoutMs" must be'],
    ['an array', '/v1/tunnels', '[3000]', 400, 'must be a JSON object'],
    ['a direct tunnel with auth', '/v1/tunnels', '{"port": 3000, "direct": true, "auth": true}', 400, '"direct" and "auth" cannot both be true'],
    ['auth that is not a boolean', '/v1/tunnels', '{"port": 3000, "auth": "yes"}', 400, '"auth" must be true or false'],
    ['a body over 64 KiB', '/v1/tunnels', JSON.stringify({port: 3000, pad: 'x'.repeat(100_000)}), 413, 'larger than'],
    ['a target that is a path', '/v1/endpoints', '{"target": "../../etc/passwd"}', 400, 'is not a target'],
    ['a target on another host', '/v1/endpoints', '{"target": "https://example.com:8443", "provider": "cloudflare"}', 400, 'is not on this machine'],
    ['a scheme that is not http or https', '/v1/tunnels', '{"port": 3000, "scheme": "ftp"}', 400, '"scheme" must be "http" or "https"'],
    ['a provider that is a path', '/v1/endpoints', '{"target": "3000", "provider": "../x"}', 400, 'There is no provider "../x"'],
    ['a relative socket path', '/v1/endpoints', '{"target": "unix:run/app.sock", "provider": "cloudflare"}', 400, 'must be absolute'],
    ['a socket path that is a file', '/v1/endpoints', '{"target": "unix:/etc/hosts", "provider": "cloudflare"}', 400, 'is a file, not a unix socket'],
    ['a socket path that is a directory', '/v1/endpoints', '{"target": "unix:/tmp", "provider": "cloudflare"}', 400, 'is a directory, not a unix socket'],
    ['a bad endpoint timeout', '/v1/endpoints', '{"target": "3000", "provider": "cloudflare", "timeoutMs": 0}', 400, '"timeoutMs" must be'],
    ['a search path that is not a string', '/v1/tunnels', '{"port": 3000, "searchPath": ["/usr/bin"]}', 400, '"searchPath" (the caller\'s PATH) must be a string'],
    ['a search path with a relative directory', '/v1/endpoints', '{"target": "3000", "searchPath": "/usr/bin:node_modules/.bin"}', 400, '"node_modules/.bin", which is not an absolute directory'],
    ['a search path with a NUL', '/v1/tunnels', JSON.stringify({port: 3000, searchPath: '/usr/bin\0/opt/bin'}), 400, 'NUL'],
    ['a search path over 32 KiB', '/v1/endpoints', JSON.stringify({target: '3000', searchPath: '/x'.repeat(20_000)}), 400, 'longer than 32768'],
  ])('answers %s with a 4xx that says what is wrong, and starts nothing', async (what, path, body, status, message) => {
    const reply = await socketRequest(socket, 'POST', path, {body, headers: {'content-type': 'application/json'}})
    expect(reply.status).toBe(status)
    expect(reply.body.error.message).toContain(message)
    expect((await socketRequest(socket, 'GET', '/v1/tunnels')).body.tunnels).toEqual([])
    expect((await socketRequest(socket, 'GET', '/v1/endpoints')).body.endpoints).toEqual([])
    recordFigure('Bad input', `Control socket: ${what}`, `${reply.status} "${reply.body.error.message}"; nothing started`)
  })

  it.each([
    ['an id that is a path', 'DELETE', '/v1/endpoints/..%2F..%2Fetc%2Fpasswd', 400, 'is not an endpoint id'],
    ['an id that is broken percent-encoding', 'PATCH', '/v1/endpoints/%E0%A4%A', 400, 'not valid percent-encoding'],
    ['a port that is a path', 'DELETE', '/v1/tunnels/..%2F3000', 400, 'Invalid port'],
    ['an unknown path', 'GET', '/v1/nothing', 404, 'No such endpoint'],
    ['a wrong method', 'PUT', '/v1/tunnels', 405, 'PUT is not allowed'],
  ])('answers %s with a 4xx', async (what, method, path, status, message) => {
    const reply = await socketRequest(socket, method, path, {body: method === 'PATCH' ? '{"auth": true}' : undefined})
    expect(reply.status).toBe(status)
    expect(reply.body.error.message).toContain(message)
    await stillServes()
    recordFigure('Bad input', `Control socket: ${what}`, `${reply.status} "${reply.body.error.message}"; the next request is served`)
  })

  it('refuses a 10 MB body without reading it all, and keeps serving', async () => {
    const started = performance.now()
    // The supervisor answers 413 and hangs up while the body is still being written. Whether the
    // client reads that answer before its next write fails (EPIPE, ECONNRESET) is a race in the
    // kernel, so either ending counts; "a body over 64 KiB" above reads the 413 for a body that fits
    // the socket's buffers.
    const client = connect(socket)
    let answered = ''
    let writeError: string | undefined
    client.setEncoding('utf8')
    client.on('data', (chunk: string) => (answered += chunk))
    client.on('error', (error: NodeJS.ErrnoException) => (writeError = error.code))
    const closed = new Promise((resolve) => client.once('close', resolve))
    const body = Buffer.alloc(10 * 1024 * 1024, 'x')
    client.end(Buffer.concat([Buffer.from(`POST /v1/tunnels HTTP/1.1\r\nHost: tunnelctl\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`), body]))
    await within('the supervisor to refuse a 10 MB body and hang up', closed)
    const endedMs = performance.now() - started

    if (answered) {
      expect(answered).toMatch(/^HTTP\/1\.1 413 /)
      expect(JSON.parse(answered.slice(answered.indexOf('\r\n\r\n') + 4)).error.code).toBe('TOO_LARGE')
    } else {
      expect(writeError, 'with no answer read, the write was cut off').toMatch(/^(EPIPE|ECONNRESET)$/)
    }

    await stillServes()
    const ending = answered ? '413 read' : `the write cut off with ${writeError}`
    recordFigure('Bad input', 'Control socket: a 10 MB body', `connection ended after ${ms(endedMs)} (${ending}); the socket serves the next request`)
  })

  it('cuts off a client that never finishes its headers, and serves others meanwhile', async () => {
    const slow = connect(socket)
    slow.write('POST /v1/tunnels HTTP/1.1\r\nHost: tunnelctl\r\nContent-Le')
    const started = performance.now()
    const closed = new Promise<number>((resolve) => slow.once('close', () => resolve(performance.now() - started)))
    slow.on('error', () => {})
    // Read what comes (a 408): the close is only seen once the stream is read to its end.
    slow.resume()

    const servedStarted = performance.now()
    await stillServes()
    const servedMs = performance.now() - servedStarted
    const closedAfterMs = await within('the supervisor to cut off a client that never finishes its headers', closed)
    recordFigure('Bad input', 'Control socket: a client that never finishes its headers', `closed after ${ms(closedAfterMs)}; another request answered in ${ms(servedMs)} meanwhile`)
    await stillServes()
  })
})

/** Every file under the home with its content: what "nothing touched" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, {recursive: true}) as string[]) {
    const path = join(dir, entry)
    if (statSync(path).isFile()) files[relative(dir, path)] = readFileSync(path, 'utf8')
  }

  return files
}

describe('the command line', () => {
  const BAD_PORTS = ['abc', '0', '70000', '30.5', '-1', ' 3000', '3000 ', '0x10', '+80', '1e3', '99999999999999999999', '../3000', '']
  // Another host, a path, a query or fragment, another scheme, a bad port, a user name: each refused, saying what is accepted.
  const BAD_TARGETS = [
    'example.com:3000',
    '192.168.1.20:3000',
    'localhost.example.com:3000',
    'http://example.com:3000',
    'http://localhost:3000/app',
    'http://localhost:3000//',
    'http://localhost:3000/?x=1',
    'http://localhost:3000#top',
    'localhost:3000?x=1',
    'ftp://localhost:21',
    'ws://localhost:3000',
    'file:///etc/passwd',
    'localhost',
    'localhost:',
    'localhost:abc',
    'localhost:70000',
    'https://localhost:0',
    'http://user:secret@localhost:3000',
    '[::2]:3000',
    'http://[::1:3000',
  ]
  const BAD_IDS = ['../../etc/passwd', '/etc/passwd', 'ABCDEF12', 'a1b2c3d', 'a1b2c3d4e', '', '%2e%2e%2f', 'a1b2c3d4/..', '*']

  const cases: Array<[string[], string]> = [
    ...[...BAD_PORTS, ...BAD_TARGETS].map((target): [string[], string] => [['tunnel', 'start', target], `Give a local port as ${TARGET_FORMS}.`]),
    ...BAD_PORTS.map((port): [string[], string] => [['tunnel', 'stop', port], `Invalid port ${JSON.stringify(port)}`]),
    ...['soon', '0', '-1', '601', '1e3', ''].map((timeout): [string[], string] => [['tunnel', 'start', '3000', '--timeout', timeout], `Invalid --timeout "${timeout}"`]),
    [['tunnel', 'start'], 'Missing 1 required arg: target'],
    [['tunnel', 'stop'], 'Missing 1 required arg: port'],
    [['tunnel', 'start', '3000', '4000'], 'Unexpected argument: 4000'],
    [['tunnel', 'start', '3000', '--bogus'], 'Nonexistent flag: --bogus'],
    [['tunnel', 'killall', '--force'], 'Nonexistent flag: --force'],
    [['tunnel', 'list', 'extra'], 'Unexpected argument: extra. `tunnelctl tunnel list` takes no arguments'],
    [['tunnel', 'launch', '3000'], 'Unknown command "tunnel launch". Run `tunnelctl tunnel --help` to see the commands.'],
    [['tunel', 'list'], 'Unknown command "tunel list". Did you mean tunnel list?'],
    [['tunnel', 'strat', '3000'], 'Did you mean tunnel start 3000?'],
    [['supervisor', 'stauts'], 'Did you mean supervisor status?'],
    ...['eighty', '../../etc/passwd', ' 3000', '0', '70000', ''].map((target): [string[], string] => [
      ['expose', 'start', target, '--provider', 'local'],
      target === '0' || target === '70000' ? 'out of range' : 'is not a target',
    ]),
    ...[...BAD_TARGETS, 'unix:'].map((target): [string[], string] => [
      ['expose', 'start', target, '--provider', 'local'],
      `Give a local port as ${TARGET_FORMS}, or a unix socket as unix:/path/to/app.sock.`,
    ]),
    [['expose', 'start', 'unix:app.sock', '--provider', 'local'], 'The socket path in "unix:app.sock" must be absolute'],
    [['expose', 'start', 'unix:/etc/hosts', '--provider', 'local'], 'is a file, not a unix socket. Give the socket your app listens on'],
    [['expose', 'start', 'unix:/tmp', '--provider', 'local'], 'is a directory, not a unix socket'],
    ...['soon', '0', '-1', '601', '1e3', ''].map((timeout): [string[], string] => [['expose', 'start', '3000', '--provider', 'local', '--timeout', timeout], `Invalid --timeout "${timeout}"`]),
    ...['', '../x', 'Local', 'a b'].map((provider): [string[], string] => [['expose', 'start', '3000', '--provider', provider], `There is no provider ${JSON.stringify(provider)}`]),
    [['expose', 'start', '3000', '--mode', 'sideways'], 'Expected --mode=sideways to be one of: public, private'],
    [['expose', 'start', '3000', '--mode'], 'Flag --mode expects one of these values: public, private'],
    ...['Not A Label', '../../etc', '', '-x', 'a'.repeat(64)].map((name): [string[], string] => [['expose', 'start', '3000', '--provider', 'local', '--name', name], 'The name must be a DNS label']),
    [['expose', 'start'], 'Missing 1 required arg: target'],
    ...BAD_IDS.map((id): [string[], string] => [['expose', 'stop', id], `${JSON.stringify(id)} is not an endpoint id`]),
    ...BAD_IDS.map((id): [string[], string] => [['expose', 'update', id, '--auth'], `${JSON.stringify(id)} is not an endpoint id`]),
    [['expose', 'update', 'a1b2c3d4'], '--auth (a new password) or --no-auth'],
    [['expose', 'update', 'a1b2c3d4', '--auth', '--no-auth'], '--auth and --no-auth cannot be given together'],
    [['expose', 'update', 'a1b2c3d4', '--no-auth', '--auth'], '--auth and --no-auth cannot be given together'],
    [['expose', 'list', 'extra'], 'Unexpected argument: extra'],
    ...['many', '0', '-5', '1.5', ''].map((lines): [string[], string] => [['supervisor', 'logs', '-n', lines], `Invalid --lines "${lines}"`]),
    [['supervisor', 'stop', '--now'], 'Nonexistent flag: --now'],
    [['supervisor', 'install', '--user'], 'Nonexistent flag: --user'],
    [['supervisor', 'uninstall', 'now'], 'Unexpected argument: now'],
    [['config', 'get', '../../etc/passwd'], 'Unknown setting "../../etc/passwd"'],
    [['config', 'set', 'no.such.key', 'x'], 'Unknown setting "no.such.key"'],
    [['config', 'unset', 'no.such'], 'Unknown setting "no.such"'],
    [['config', 'set', 'notify.webhook'], 'Missing 1 required arg: value'],
    [['config', 'set', 'notify.webhook', 'not a url'], '"not a url" is not a URL'],
    [['config', 'set', 'notify.webhook', 'ftp://example.test/'], 'must be an http or https URL'],
    ...['-5', 'abc', '1.5'].map((value): [string[], string] => [['config', 'set', 'supervisor.idleTimeout', value], 'whole number of seconds']),
    ...['-5', 'abc', '1.5', '86401'].map((value): [string[], string] => [['config', 'set', 'proxy.responseTimeout', value], 'proxy.responseTimeout must be a whole number of seconds from 0']),
    [['config', 'set', 'cloudflare.token', ''], 'cloudflare.token must be the tunnel token'],
    [['config', 'set', 'cloudflare.domain', 'not a domain'], 'cloudflare.domain must be a DNS hostname'],
    ...['0', '70000', 'abc'].map((value): [string[], string] => [['config', 'set', 'local.port', value], 'local.port must be a port from 1 to 65535']),
    [['config', 'set', 'local.address', 'nope'], 'local.address must be an IP address'],
    [['config', 'set', 'local.hostname', 'bad host!'], 'local.hostname must be a DNS hostname'],
    [['config', 'set', 'custom.cloudflare.command', 'x {port}'], 'Unknown setting'],
    [['config', 'set', 'custom.../x.command', 'x {port}'], 'Unknown setting'],
    [['config', 'set', 'custom.mine.command', 'ssh host'], 'must contain {port}'],
    [['config', 'set', 'custom.mine.match', '(unclosed'], 'not a valid regular expression'],
    [['config', 'set', 'custom.mine.url', 'ftp://x'], 'must start with http:// or https://'],
    [['events', 'extra'], 'Unexpected argument: extra'],
    ...['many', '0', '-5', ''].map((count): [string[], string] => [['events', '-n', count], `Invalid --count "${count}"`]),
    [['doctor', 'extra'], 'Unexpected argument: extra'],
    [['help', 'tunnel', 'launch'], 'Command tunnel:launch not found'],
  ]

  // A hundred commands one after another, each a node start: a loaded machine needs longer than a test's default.
  it('every flag and argument given a wrong value: a clear error, exit 2, and nothing touched', async () => {
    // One home for all of them: a supervisor started by any would show, as would a file written.
    await t.run(['config', 'set', 'local.hostname', 'devbox.test'])
    const before = snapshot(t.home)
    const failures: string[] = []
    for (const [args, message] of cases) {
      const result = await t.run(args)
      const problems = [
        result.exitCode === 2 ? '' : `exit ${result.exitCode}`,
        /^Error: .+/.test(result.stderr) ? '' : 'no "Error: …" line',
        result.stderr.includes(message) ? '' : `no ${JSON.stringify(message)}`,
        result.stdout === '' ? '' : 'printed to stdout',
      ].filter(Boolean)
      if (t.processes().length > 0) problems.push(`started ${t.processes()[0].cmdline}`)
      if (problems.length > 0) failures.push(`${JSON.stringify(args)}: ${problems.join(', ')}; stderr: ${result.stderr}`)
    }

    expect(failures).toEqual([])
    expect(t.processes(), 'a command started something').toEqual([])
    expect(snapshot(t.home)).toEqual(before)
    recordFigure('Bad input', 'CLI: every flag and argument given a wrong value', `${cases.length} of ${cases.length} commands: exit 2 and an error saying what to give; no process started, no file changed`)
  }, 240_000)

  it('reports bad input as a JSON error with --json', async () => {
    const start = await t.json(['tunnel', 'start', 'abc'])
    expect(start).toEqual({
      exitCode: 2,
      stderr: '',
      body: {error: {code: 'BAD_INPUT', message: `"abc" is not a target. Give a local port as ${TARGET_FORMS}.`}},
    })
  })
})
