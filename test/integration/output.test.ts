import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {execa} from 'execa'
import {BIN, type CliResult, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {unusedPort} from '../helpers/ports.js'

let t: TestHome
beforeEach(() => {
  t = new TestHome()
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/**
 * What a user sees, with the parts that change from run to run made fixed: the random
 * trycloudflare words (by x's of the same length, so table columns keep their width), times,
 * uptimes, pids and the temporary home.
 */
function screen({stdout, stderr, exitCode}: CliResult): string {
  const text = [stdout && `stdout:\n${stdout}`, stderr && `stderr:\n${stderr}`, `exit ${exitCode}`].filter(Boolean).join('\n')
  return text
    .replaceAll(t.home, '<home>')
    .replace(/https:\/\/([a-z0-9-]+)\.trycloudflare\.com/g, (_, words: string) => `https://${'x'.repeat(words.length)}.trycloudflare.com`)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\b(pid|supervisor) \d+/g, '$1 <pid>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/g, '<uuid>')
    .replace(/\b(up|UPTIME\n.*?) ?\d+[smhd]( \d+[smh])?$/gm, (m) => m.replace(/\d+[smhd]( \d+[smh])?$/, '<uptime>'))
    .replace(/  (\d+[smhd]( \d+[smh])?)$/gm, '  <uptime>')
}

describe('human output', () => {
  it('tunnel start, list, stop, killall', async () => {
    const unused = await unusedPort()
    expect(screen(await t.run(['tunnel', 'start', String(unused)])).replaceAll(`:${unused}`, ':<unused port>')).toMatchInlineSnapshot(`
      "stdout:
      Forwarding https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com -> http://localhost:<unused port>
      stderr:
      Warning: Nothing is listening on localhost:<unused port> yet; visitors get 502 until something does.
      exit 0"
    `)
    await t.run(['tunnel', 'stop', String(unused)])
    await t.run(['tunnel', 'start', '3000'])
    await t.run(['tunnel', 'start', '4000'])
    expect(screen(await t.run(['tunnel', 'list']))).toMatchInlineSnapshot(`
      "stdout:
      PORT  URL                                                    VIA    AUTH  STATUS  UPTIME
      3000  https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com  proxy  no    up      <uptime>
      4000  https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com  proxy  no    up      <uptime>
      exit 0"
    `)
    expect(screen(await t.run(['tunnel', 'stop', '4000']))).toMatchInlineSnapshot(`
      "stdout:
      Stopped the tunnel on port 4000 (https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com).
      exit 0"
    `)
    expect(screen(await t.run(['tunnel', 'killall']))).toMatchInlineSnapshot(`
      "stdout:
      Stopped 1 tunnel.
      exit 0"
    `)
    expect(screen(await t.run(['tunnel', 'list']))).toMatchInlineSnapshot(`
      "stdout:
      No active tunnels.
      exit 0"
    `)
  })

  it('errors', async () => {
    expect(screen(await t.run(['tunnel', 'start', '70000']))).toMatchInlineSnapshot(`
      "stderr:
      Error: Port 70000 is out of range: use 1 to 65535. Give a local port as 3000, localhost:3000, 127.0.0.1:<port>, [::1]:3000, http://localhost:3000 or https://localhost:8443.
      exit 2"
    `)
    await t.run(['tunnel', 'start', '3000'])
    expect(screen(await t.run(['tunnel', 'start', '3000']))).toMatchInlineSnapshot(`
      "stderr:
      Error: Port 3000 already has a tunnel (https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com). Stop it first with \`tunnelctl tunnel stop 3000\`.
      exit 1"
    `)
    expect(screen(await t.run(['tunnel', 'stop', '3001']))).toMatchInlineSnapshot(`
      "stderr:
      Error: No tunnel on port 3001. See the active ones with \`tunnelctl tunnel list\`.
      exit 1"
    `)
    t.fakeModeNext('rate-limited')
    expect(screen(await t.run(['tunnel', 'start', '3002']))).toMatchInlineSnapshot(`
      "stderr:
      Error: cloudflared exited with code 1 before the tunnel was up. TryCloudflare is rate limiting this machine (HTTP 429). Wait a few minutes before starting more quick tunnels.
      cloudflared's last lines:
        <time> INF Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, b…
        <time> INF Requesting new quick Tunnel on trycloudflare.com...
        <time> ERR Error unmarshaling QuickTunnel response: error code: 1015 error="invalid character 'e' looking for beginning of value" status_code="429…
        failed to unmarshal quick Tunnel: invalid character 'e' looking for beginning of value
      exit 1"
    `)
  })

  it('events with a crash', async () => {
    t.fakeModeNext('crash-after-start')
    await t.run(['tunnel', 'start', '3000'])
    await waitFor('the crash', async () => (await t.run(['events'])).stdout.includes('tunnel.crashed'))
    expect(screen(await t.run(['events']))).toMatchInlineSnapshot(`
      "stdout:
      <time>  supervisor.started  pid <pid>, tunnelctl 0.1.0
      <time>  tunnel.started  port 3000  https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com
      <time>  tunnel.crashed  port 3000  https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com  exited with code 2
          | <time> INF Initial protocol quic
          | <time> INF ICMP proxy will use 10.0.2.15 as source for IPv4
          | <time> INF ICMP proxy will use ::1 in zone lo as source for IPv6
          | <time> INF Starting metrics server on 127.0.0.1:<port>/metrics
          | <time> INF Tunnel connection curve preferences: [X25519MLKEM768 CurveP256] connIndex=0 event=0 ip=198.41.200.73
          | <time> INF Registered tunnel connection connIndex=0 connection=<uuid> event=0 ip=198.41.200.73 location=fra03 protocol=quic
          | panic: runtime error: invalid memory address or nil pointer dereference
          | [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1a2b3c]
          | 
          | goroutine 1 [running]:
      exit 0"
    `)
  })

  it('supervisor status and stop', async () => {
    expect(screen(await t.run(['supervisor', 'status']))).toMatchInlineSnapshot(`
      "stdout:
      The supervisor is not running. \`tunnelctl supervisor start\` starts it, as does any command that changes something.
      Service:  not installed (\`tunnelctl supervisor install\` starts the supervisor at login and keeps it running)
      exit 0"
    `)
    await t.run(['tunnel', 'start', '3000'])
    expect(screen(await t.run(['supervisor', 'status']))).toMatchInlineSnapshot(`
      "stdout:
      Running:  pid <pid>, tunnelctl 0.1.0, up <uptime>
      Tunnels:  1
      Exposed:  0 endpoint(s), proxy on 127.0.0.1:<port>
      Socket:   <home>/run/supervisor.sock
      Config:   <home>
      Service:  not installed (\`tunnelctl supervisor install\` starts the supervisor at login and keeps it running)
      exit 0"
    `)
    expect(screen(await t.run(['supervisor', 'stop']))).toMatchInlineSnapshot(`
      "stdout:
      Stopped the supervisor (pid <pid>) and 1 tunnel.
      exit 0"
    `)
  })

  it('supervisor logs', async () => {
    await t.run(['supervisor', 'start'])
    await t.run(['supervisor', 'stop'])
    expect(screen(await t.run(['supervisor', 'logs']))).toMatchInlineSnapshot(`
      "stdout:
      <time> supervisor <pid> listening on <home>/run/supervisor.sock
      <time> shutting down: stop requested
      exit 0"
    `)
  })

  it('config list, set, get, unset', async () => {
    // Its default is this machine's name, which would make the table's width vary.
    await t.run(['config', 'set', 'local.hostname', 'devbox.test'])
    expect(screen(await t.run(['config', 'set', 'notify.webhook', 'https://hooks.example.test/tunnelctl']))).toMatchInlineSnapshot(`
      "stdout:
      notify.webhook = https://hooks.example.test/tunnelctl
      exit 0"
    `)
    expect(screen(await t.run(['config', 'get', 'notify.webhook']))).toMatchInlineSnapshot(`
      "stdout:
      https://hooks.example.test/tunnelctl
      exit 0"
    `)
    expect(screen(await t.run(['config', 'list']))).toMatchInlineSnapshot(`
      "stdout:
      KEY                     VALUE                                 DESCRIPTION
      notify.webhook          https://hooks.example.test/tunnelctl  URL that every event is POSTed to as JSON (http or https).
      supervisor.idleTimeout  300 (default)                         Seconds the supervisor waits with nothing running before it exits; 0 keeps it running.
      proxy.responseTimeout   120 (default)                         Seconds an app may take to start its answer (its response head) before the proxy answers 504; 0 waits for ever.
      inspect.keep            500 (default)                         Requests recorded per tunnel and endpoint, for logs, replay and the inspector (oldest dropped first); 0 records none.
      inspect.bodyBytes       65536 (default)                       Bytes kept of each recorded request and response body; 0 keeps no bodies.
      inspect.maxMemory       64 (default)                          Megabytes all recorded requests may take together, their bodies and their entries (estimated); past it the oldest requests lose their bodies first, then the oldest requests go.
      inspect.port            0 (default)                           Port of the web inspector (\`tunnelctl inspect\`) on 127.0.0.1; 0 picks a free one. Read when the inspector starts.
      cloudflare.token        (not set)                             Token of a Cloudflare tunnel; with cloudflare.domain, expose endpoints get <name>.<domain> on it instead of quick tunnels.
      cloudflare.domain       (not set)                             Domain routed to the cloudflare.token tunnel (a wildcard DNS record *.<domain> pointing at it).
      cloudflared.path        (not set)                             The cloudflared program to run, used before the one on PATH and the one \`tunnelctl cloudflared install\` put in place.
      local.port              18221 (default)                       Port of the local provider's first endpoint; each other takes the next free one after it.
      local.address           0.0.0.0 (default)                     Address the local provider listens on: 0.0.0.0 for every interface, or one interface's address.
      local.hostname          devbox.test                           Name other machines on the network reach this one by; a local endpoint's URL is http://<it>:<its port>.

      Settings file: <home>/config.json
      exit 0"
    `)
    expect(screen(await t.run(['config', 'unset', 'notify.webhook']))).toMatchInlineSnapshot(`
      "stdout:
      notify.webhook unset
      exit 0"
    `)
    expect(screen(await t.run(['config', 'get', 'supervisor.idleTimeout']))).toMatchInlineSnapshot(`
      "stdout:
      300
      exit 0"
    `)
  })

  it('expose start, list, update, stop', async () => {
    await t.run(['config', 'set', 'local.address', '127.0.0.1'])
    await t.run(['config', 'set', 'local.port', String(await findFreeLoopbackPort())])
    await t.run(['config', 'set', 'local.hostname', 'devbox.test'])
    // Targets nothing listens on, whatever else runs on the machine: the warning is part of the output.
    const first = await unusedPort()
    let second = await unusedPort()
    while (second === first) second = await unusedPort()
    const ids: string[] = []
    // Ids are random: the first becomes a1a1a1a1, the second b2b2b2b2. Digits become N, keeping columns' widths.
    const show = (result: CliResult) => {
      for (const id of result.stdout.match(/\b[0-9a-f]{8}\b/g) ?? []) if (!ids.includes(id)) ids.push(id)
      let text = screen(result).replace(/devbox\.test:\d+/g, (m) => m.replace(/\d/g, 'N')).replace(/(up +)\ds /g, '$1Ns ').replace(/Password: \S+/, 'Password: <password>')
      ids.forEach((id, i) => (text = text.replaceAll(id, ['a1a1a1a1', 'b2b2b2b2'][i])))
      return text.replaceAll(String(first), 'PORT1').replaceAll(String(second), 'PORT2')
    }

    expect(show(await t.run(['expose', 'start', String(first), '--provider', 'local', '--auth']))).toMatchInlineSnapshot(`
      "stdout:
      Endpoint a1a1a1a1 is up: http://devbox.test:NNNNN -> localhost:PORT1 (local)
      Also at: http://127.0.0.1:<port>
      Username: tunnelctl
      Password: <password>
      The password is shown this once and stored nowhere; \`tunnelctl expose update a1a1a1a1 --auth\` makes a new one.
      stderr:
      Warning: Nothing is listening on localhost:PORT1 yet; visitors get 502 until something does.
      exit 0"
    `)
    expect(show(await t.run(['expose', 'start', String(second), '--provider', 'cloudflare']))).toMatchInlineSnapshot(`
      "stdout:
      Endpoint b2b2b2b2 is up: https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com -> localhost:PORT2 (cloudflare)
      stderr:
      Warning: Nothing is listening on localhost:PORT2 yet; visitors get 502 until something does.
      exit 0"
    `)
    expect(show(await t.run(['expose', 'list']))).toMatchInlineSnapshot(`
      "stdout:
      ID        PROVIDER    URL                                                    TARGET  AUTH  STATUS  UPTIME  RESTARTS  REQUESTS
      a1a1a1a1  local       http://devbox.test:NNNNN                               PORT1   yes   up      Ns      0         0
      b2b2b2b2  cloudflare  https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com  PORT2   no    up      Ns      0         0

      a1a1a1a1 also at: http://127.0.0.1:<port>
      exit 0"
    `)
    expect(show(await t.run(['expose', 'update', ids[0], '--no-auth']))).toMatchInlineSnapshot(`
      "stdout:
      Endpoint a1a1a1a1 is open to everyone with its URL.
      exit 0"
    `)
    expect(show(await t.run(['expose', 'stop', ids[1]]))).toMatchInlineSnapshot(`
      "stdout:
      Stopped endpoint b2b2b2b2 (https://xxxxxxxxxxxxxxxxxxxxxxxxxxx.trycloudflare.com).
      exit 0"
    `)
    expect(show(await t.run(['expose', 'killall']))).toMatchInlineSnapshot(`
      "stdout:
      Stopped 1 endpoint.
      exit 0"
    `)
    expect(show(await t.run(['expose', 'list']))).toMatchInlineSnapshot(`
      "stdout:
      No endpoints. Publish one with \`tunnelctl expose start <port>\`.
      exit 0"
    `)
  })

  it('`tunnel` and `tunnel help` print the tunnel commands', async () => {
    const topic = await t.run(['tunnel'])
    expect(screen(topic)).toMatchInlineSnapshot(`
      "stdout:
      Quick cloudflared tunnels: a public https URL for a local port.

      USAGE
        $ tunnelctl tunnel COMMAND

      COMMANDS
        tunnel help     Show help for the tunnel commands.
        tunnel killall  Stop every tunnel.
        tunnel list     List the active tunnels, sorted by port.
        tunnel logs     Show the recent requests through a tunnel: time, method, path,
                        status, duration and size.
        tunnel run      Put a local port on a public https URL while this runs, or
                        around a command.
        tunnel start    Put a local port on a public https URL with a cloudflared
                        quick tunnel.
        tunnel stop     Stop the tunnel on a port (SIGTERM, then SIGKILL if
                        cloudflared lingers).

      exit 0"
    `)
    const help = await t.run(['tunnel', 'help'])
    expect(help.stdout).toBe(topic.stdout)
    expect(help.exitCode).toBe(0)
  })

  it('tunnel start --help shows its examples', async () => {
    expect(screen(await t.run(['tunnel', 'start', '--help']))).toMatchInlineSnapshot(`
      "stdout:
      Put a local port on a public https URL with a cloudflared quick tunnel.

      USAGE
        $ tunnelctl tunnel start TARGET [--json] [--auth | --direct] [--timeout
          <seconds>] [--qr] [--open] [--install-cloudflared]

      ARGUMENTS
        TARGET  local port or URL to expose: 3000, localhost:3000, 127.0.0.1:<port>,
                [::1]:3000, http://localhost:3000 or https://localhost:8443

      FLAGS
        --auth                 require Basic auth (user tunnelctl, a new random
                               password shown once)
        --direct               cloudflared straight to the port, past the local proxy:
                               no --auth
        --install-cloudflared  if cloudflared is missing, download it (verified)
                               without asking; as TUNNELCTL_INSTALL_CLOUDFLARED=1 does
        --open                 also open the URL in the default browser
        --qr                   also print the URL as a QR code, to try it on a phone
        --timeout=<seconds>    [default: 30] seconds to wait for cloudflared to print
                               its URL

      GLOBAL FLAGS
        --json  Format output as json.

      DESCRIPTION
        Put a local port on a public https URL with a cloudflared quick tunnel.

        Starts a cloudflared quick tunnel under the supervisor and prints its URL once
        cloudflared has registered a connection. The target may be written 3000,
        localhost:3000, 127.0.0.1:<port>, [::1]:3000, http://localhost:3000 or
        https://localhost:8443; an https one (a local dev server with its own
        certificate) is reached without verifying its certificate, with a warning.
        Either way the tunnel is named by its port in \`tunnel list\` and \`tunnel stop\`.
        The port need not be listening yet. Visitors reach the port through the
        supervisor's local proxy, which asks them for a password with --auth and sees
        every request; --direct points cloudflared at the port itself instead, without
        either. cloudflared is the one set as cloudflared.path, else the first on this
        command's PATH, else the copy \`tunnelctl cloudflared install\` put in place;
        when there is none, it is downloaded with consent (a question on a terminal,
        --install-cloudflared, or TUNNELCTL_INSTALL_CLOUDFLARED=1).

      EXAMPLES
        $ tunnelctl tunnel start 3000

        $ tunnelctl tunnel start http://localhost:5173

        $ tunnelctl tunnel start https://localhost:8443

        $ tunnelctl tunnel start 3000 --auth

        $ tunnelctl tunnel start 3000 --direct

        $ tunnelctl tunnel start 8080 --timeout 60

        $ tunnelctl tunnel start 3000 --install-cloudflared

        URL=$(tunnelctl tunnel start 3000 --json | jq -r .url)

        $ tunnelctl tunnel start 5173 --qr --open

      exit 0"
    `)
  })
})

const onTerminal = async (args: string[], env: NodeJS.ProcessEnv, columns?: number) => (await t.runOnTerminal(args, env, columns)).stdout

describe('a table on a terminal', () => {
  it('fits its width by wrapping prose, and cuts no URL', async () => {
    const webhook = 'https://hooks.example.test/tunnelctl'
    await t.run(['config', 'set', 'notify.webhook', webhook])
    const settings = await onTerminal(['config', 'list'], t.env, 100)
    const lines = settings.split(/\r?\n/)
    expect(lines.filter((line) => line.length > 100), 'lines wider than the terminal').toEqual([])
    expect(lines.find((line) => line.startsWith('notify.webhook')), 'the webhook row').toContain(webhook)
    // Wrapped between words, under its column: joined up again, each description reads whole.
    expect(lines.find((line) => line.startsWith('supervisor.idleTimeout')), 'a description too long for one line').not.toContain('running.')
    expect(settings.replace(/\s+/g, ' ')).toContain('Seconds the supervisor waits with nothing running before it exits; 0 keeps it running.')

    await t.run(['tunnel', 'start', '3000'])
    const tunnels = (await onTerminal(['tunnel', 'list'], t.env, 40)).split(/\r?\n/)
    expect(tunnels[1], 'a terminal narrower than the URL').toMatch(/^3000  https:\/\/[a-z-]+\.trycloudflare\.com  proxy  no {4}up  /)
  })
})

describe('colour', () => {
  it('is used on a terminal, and not when NO_COLOR is set or stdout is not a terminal', async () => {
    await t.run(['tunnel', 'start', '3000'])
    const {NO_COLOR: _, ...colourful} = t.env
    expect(await onTerminal(['tunnel', 'list'], {...colourful, TERM: 'xterm'})).toContain('\u001B[1mPORT')
    expect(await onTerminal(['tunnel', 'list'], {...colourful, TERM: 'xterm', NO_COLOR: '1'})).not.toContain('\u001B')
    const piped = await execa(process.execPath, [BIN, 'tunnel', 'list'], {env: {...colourful, TERM: 'xterm'}, extendEnv: false})
    expect(piped.stdout).toMatch(/^PORT/)
    expect(piped.stdout).not.toContain('\u001B')
  })
})

it('`tunnel help --json` lists the tunnel commands', async () => {
  const help = await t.json(['tunnel', 'help'])
  expect(help.body.commands.map((c: {command: string}) => c.command)).toEqual(['tunnel help', 'tunnel killall', 'tunnel list', 'tunnel logs', 'tunnel run', 'tunnel start', 'tunnel stop'])
})

describe('the fast path', () => {
  /** The same command run by oclif, as bin/run.js does for everything the fast path does not take. */
  async function throughOclif(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const script = `import {execute} from '@oclif/core'; await execute({dir: ${JSON.stringify(ROOT)}, args: ${JSON.stringify(args)}})`
    const result = await execa(process.execPath, ['--input-type=module', '-e', script], {env: {...t.env, ...env}, extendEnv: false, reject: false, cwd: ROOT})
    return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
  }

  /** Uptimes may tick between the two runs, wherever their column is. */
  const same = (result: CliResult) => screen(result).replace(/\b\d+[smhd]( \d+[smh])?\b/g, '<uptime>')

  it('prints what oclif prints, for every form it takes and for failures', async () => {
    await t.run(['config', 'set', 'local.address', '127.0.0.1'])
    await t.run(['config', 'set', 'local.port', String(await findFreeLoopbackPort())])
    await t.run(['config', 'set', 'local.hostname', 'devbox.test'])
    for (const empty of [true, false]) {
      if (!empty) {
        await t.run(['tunnel', 'start', '3000'])
        await t.run(['expose', 'start', '3000', '--provider', 'local'])
      }

      for (const args of [['--version'], ['-v'], ['tunnel', 'list'], ['tunnel', 'list', '--json'], ['expose', 'list'], ['expose', 'list', '--json']]) {
        expect(same(await t.run(args)), args.join(' ')).toBe(same(await throughOclif(args)))
      }
    }

    // A home whose socket path would be too long: the same error, exit code and JSON error.
    const longHome = {TUNNELCTL_HOME: `${t.home}/${'x'.repeat(120)}`}
    for (const args of [['tunnel', 'list'], ['expose', 'list', '--json']]) {
      expect(same(await t.run(args, longHome)), args.join(' ')).toBe(same(await throughOclif(args, longHome)))
    }
  })
})
