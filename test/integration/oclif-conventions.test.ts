import {execa} from 'execa'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, type CliResult, ROOT, TestHome, waitFor} from '../helpers/cli.js'

/** What oclif users expect of a CLI: help and version commands, did-you-mean, completion, typed flags, a spinner. */
let t: TestHome
beforeEach(() => {
  // Completion scripts are cached under XDG_CACHE_HOME: the test home's own.
  t = new TestHome()
  t.env.XDG_CACHE_HOME = join(t.home, 'cache')
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/** The version line, which changes with the version and the machine. */
const normalised = ({stdout, stderr, exitCode}: CliResult) =>
  [stdout && `stdout:\n${stdout}`, stderr && `stderr:\n${stderr}`, `exit ${exitCode}`]
    .filter(Boolean)
    .join('\n')
    .replace(/tunnelctl\/\d+\.\d+\.\d+\S* \S+ node-v\S+/g, 'tunnelctl/<version> <platform> node-<version>')

describe('help and version', () => {
  it('`help` is the root help, and `help <command>` the command\'s', async () => {
    const help = await t.run(['help'])
    expect(help.stdout).toBe((await t.run(['--help'])).stdout)
    expect(normalised(help)).toMatchInlineSnapshot(`
      "stdout:
      Put local ports on public URLs and keep them there: quick cloudflared tunnels and persisted endpoints, managed by a per-user supervisor.

      VERSION
        tunnelctl/<version> <platform> node-<version>

      USAGE
        $ tunnelctl [COMMAND]

      TOPICS
        cloudflared  The cloudflared tunnelctl runs: install it, verified, from its
                     GitHub releases.
        config       Read and change tunnelctl's settings.
        expose       Endpoints that stay: a local port or socket published through
                     cloudflare, tailscale, the LAN or your own command, behind a
                     proxy with optional Basic auth.
        supervisor   The background process that holds every tunnel.
        tunnel       Quick cloudflared tunnels: a public https URL for a local port.

      COMMANDS
        autocomplete  Display autocomplete installation instructions.
        doctor        Check what tunnelctl depends on and what it left behind, with a
                      fix for each problem.
        events        Show recent events: starts, stops, crashes and restarts of the
                      supervisor, tunnels and endpoints.
        help          Display help for tunnelctl.
        inspect       Open the web inspector: every request through your tunnels and
                      endpoints, live, with replay.
        replay        Send a recorded request again to the same tunnel or endpoint,
                      and show the answer.
        version       Print the version of tunnelctl, and of the platform and Node.js
                      it runs on (also: -v, --version).

      exit 0"
    `)
    const command = await t.run(['help', 'tunnel', 'start'])
    expect(command.exitCode).toBe(0)
    expect(command.stdout).toBe((await t.run(['tunnel', 'start', '--help'])).stdout)
    expect((await t.run(['tunnel', 'start', '-h'])).stdout).toBe(command.stdout)
  })

  it('`version`, `-v` and `--version` print the version', async () => {
    const version = await t.run(['version'])
    expect(normalised(version)).toBe('stdout:\ntunnelctl/<version> <platform> node-<version>\nexit 0')
    expect(version.stdout).toContain(`tunnelctl/${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} `)
    expect((await t.run(['-v'])).stdout).toBe(version.stdout)
    expect((await t.run(['--version'])).stdout).toBe(version.stdout)
    const json = await t.json(['version'])
    expect(json.body).toEqual({version: expect.stringMatching(/^\d+\.\d+\.\d+/), platform: process.platform, arch: process.arch, node: process.version})
  })

  it.each(['supervisor', 'config', 'expose', 'tunnel'])('`%s help` prints the topic\'s help, and lists its commands with --json', async (topic) => {
    const help = await t.run([topic, 'help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toBe((await t.run([topic])).stdout)
    expect(help.stdout).toContain(`${topic} help`)
    const json = await t.json([topic, 'help'])
    const listed = json.body.commands.map((c: {command: string}) => c.command)
    expect(listed).toContain(`${topic} help`)
    for (const command of listed) expect(help.stdout, command).toContain(command)
  })

  it('flags and arguments show what to give', async () => {
    const start = await t.run(['tunnel', 'start', '--help'])
    expect(start.stdout).toContain('$ tunnelctl tunnel start TARGET [--json] [--auth | --direct]')
    expect(start.stdout).toMatch(/--timeout=<seconds> +\[default: 30\]/)
    const logs = await t.run(['supervisor', 'logs', '--help'])
    expect(logs.stdout).toContain('-n, --lines=<count>  [default: 50]')
    const update = await t.run(['expose', 'update', '--help'])
    expect(update.stdout).toContain('$ tunnelctl expose update ID [--json] [--auth | --no-auth]')
    expect(normalised(update)).toMatchInlineSnapshot(`
      "stdout:
      Turn an endpoint's Basic auth on (with a new password, shown once) or off.

      USAGE
        $ tunnelctl expose update ID [--json] [--auth | --no-auth]

      ARGUMENTS
        ID  endpoint id (see \`expose list\`)

      FLAGS
        --auth     require Basic auth, with a new password
        --no-auth  let everyone with the URL in

      GLOBAL FLAGS
        --json  Format output as json.

      EXAMPLES
        $ tunnelctl expose update a1b2c3d4 --auth

        $ tunnelctl expose update a1b2c3d4 --no-auth

      exit 0"
    `)
  })
})

describe('a mistyped command', () => {
  it('is answered with the closest command, exit 2', async () => {
    expect(normalised(await t.run(['tunel', 'list']))).toMatchInlineSnapshot(`
      "stderr:
      Error: Unknown command "tunel list". Did you mean tunnel list? Run \`tunnelctl --help\` to see the commands.
      exit 2"
    `)
    expect(normalised(await t.run(['expose', 'stpo', 'a1b2c3d4']))).toMatchInlineSnapshot(`
      "stderr:
      Error: Unknown command "expose stpo". Did you mean expose stop a1b2c3d4? Run \`tunnelctl expose --help\` to see the commands.
      exit 2"
    `)
  })

  it('never waits for an answer, even on a terminal', async () => {
    const result = await t.runOnTerminal(['tunel', 'list'])
    expect(result.stdout).toContain('Did you mean tunnel list?')
    expect(result.exitCode).toBe(2)
  })

  it.each([
    [['tunel', 'list'], 'Unknown command "tunel list". Did you mean tunnel list?'],
    [['tunnel', 'list', 'extra'], 'Unexpected argument: extra'],
    [['help', 'tunnel', 'launch'], 'Nonexistent flag: --json'],
    [['version', '--bogus'], 'Nonexistent flag: --bogus'],
  ])('with --json, %j is one JSON error on stdout', async (args, message) => {
    const result = await t.run([...args, '--json'])
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(2)
    const body = JSON.parse(result.stdout)
    expect(body).toEqual({error: {code: 'BAD_INPUT', message: expect.stringContaining(message)}})
  })
})

describe('shell completion', () => {
  it('completes commands and flags in bash', async () => {
    const script = [
      `eval "$('${process.execPath}' '${BIN}' autocomplete script bash)"`,
      'COMP_WORDS=(tunnelctl tunnel st); COMP_CWORD=2; _tunnelctl_autocomplete; echo "${COMPREPLY[*]}"',
      'COMP_WORDS=(tunnelctl expose update --); COMP_CWORD=3; _tunnelctl_autocomplete; echo "${COMPREPLY[*]}"',
    ].join('\n')
    // The cache the script sources is written by `autocomplete`, as its instructions say to run first.
    expect((await t.run(['autocomplete', 'bash'])).exitCode).toBe(0)
    const bash = await execa('bash', ['-c', script], {env: t.env, extendEnv: false})
    expect(bash.stdout.split('\n')).toEqual(['start stop', '--json --auth --no-auth'])
  })

  it.each([
    ['zsh', '_tunnelctl'],
    ['powershell', 'tunnelctl.ps1'],
  ])('writes a %s completion that knows every command', async (shell, file) => {
    const setup = await t.run(['autocomplete', shell])
    expect(setup.exitCode).toBe(0)
    expect((await t.run(['autocomplete', 'script', shell])).stdout).toContain(join(t.home, 'cache', 'tunnelctl', 'autocomplete'))
    const completion = readFileSync(join(t.home, 'cache', 'tunnelctl', 'autocomplete', 'functions', shell, file), 'utf8')
    for (const word of ['tunnel', 'expose', 'supervisor', 'config', 'events', 'start', 'killall', 'no-auth', 'follow']) {
      expect(completion, word).toContain(word)
    }
  })
})

describe('the spinner while waiting for a URL', () => {
  // CI=true makes oclif's action print its text without animating: either way the text is there.
  const waiting = /Waiting for cloudflared's URL for port 3000\.\.\. ?\S*.*done/s

  it('shows on a terminal, and not with --json', async () => {
    const started = await t.runOnTerminal(['tunnel', 'start', '3000'])
    expect(started.exitCode).toBe(0)
    expect(started.stdout).toMatch(waiting)
    expect(started.stdout).toContain('Forwarding https://')
    const json = await t.runOnTerminal(['tunnel', 'start', '3001', '--json'])
    expect(json.stdout).not.toContain('Waiting')
    expect(JSON.parse(json.stdout).port).toBe(3001)
  })

  it('does not show when stderr is not a terminal', async () => {
    const started = await t.run(['tunnel', 'start', '3000'])
    expect(started.exitCode).toBe(0)
    expect(started.stderr).not.toContain('Waiting')
  })

  it('shows for `expose start` too', async () => {
    await t.localProviderOnLoopback('devbox.test')
    const started = await t.runOnTerminal(['expose', 'start', '3000', '--provider', 'local'])
    expect(started.exitCode).toBe(0)
    expect(started.stdout).toMatch(/Waiting for the URL of 3000 on local\.\.\..*done/s)
    expect(started.stdout).toContain('is up:')
  })
})

describe('events', () => {
  const protocolTypes = [...readFileSync(join(ROOT, 'src', 'protocol', 'events.ts'), 'utf8').matchAll(/type: '([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1])

  it('help lists every event type', async () => {
    expect(protocolTypes).toContain('settings.invalid')
    const help = await t.run(['events', '--help'])
    for (const type of protocolTypes) expect(help.stdout, type).toContain(`${type} `)
    expect(help.stdout).toContain('-n, --count=<count>  [default: 50]')
    expect(normalised(help)).toMatchInlineSnapshot(`
      "stdout:
      Show recent events: starts, stops, crashes and restarts of the supervisor, tunnels and endpoints.

      USAGE
        $ tunnelctl events [--json] [-n <count>] [-f]

      FLAGS
        -f, --follow         keep printing new events as they happen
        -n, --count=<count>  [default: 50] how many of the most recent events to show

      GLOBAL FLAGS
        --json  Format output as json.

      DESCRIPTION
        Show recent events: starts, stops, crashes and restarts of the supervisor,
        tunnels and endpoints.

        Shows the last 50 events, or as many as --count says. With --follow, keeps
        printing events as they happen until the supervisor stops or you press Ctrl-C;
        with --json as well, one JSON object per line (NDJSON). Never starts a
        supervisor: with none running, the recent events come from the events log.

        Event types:
        supervisor.started  a supervisor started
        supervisor.stopped  it stopped, and why
        tunnel.started      a tunnel got its URL
        tunnel.stopped      a tunnel was stopped
        tunnel.crashed      cloudflared exited by itself, with its last lines
        tunnel.lost         a dead supervisor's cloudflared, ended by the next one
        expose.started      an endpoint was published
        expose.up           a saved endpoint was brought back by a new supervisor
        expose.stopped      an endpoint was taken down
        expose.restarting   a provider's process died and is started again
        expose.failed       it kept dying; it is still tried, less often
        expose.recovered    after failing, it has stayed up
        expose.url_changed  an endpoint came back at another URL
        expose.unavailable  a saved endpoint could not be brought back
        expose.broken       an endpoint file could not be read
        settings.invalid    the settings file, or a value in it, cannot be used

      EXAMPLES
        $ tunnelctl events

        $ tunnelctl events -n 200

        $ tunnelctl events --follow

        $ tunnelctl events --follow --json | jq -c 'select(.type == "tunnel.crashed")'

      exit 0"
    `)
  })

  it('shows the last 50, or as many as -n says', async () => {
    const lines = Array.from({length: 60}, (_, i) => JSON.stringify({id: i + 1, time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), type: 'tunnel.stopped', port: 3000 + i, url: null}))
    writeFileSync(join(t.home, 'events.log'), `${lines.join('\n')}\n`)
    const all = await t.json(['events'])
    expect(all.body.map((e: {id: number}) => e.id)).toEqual(Array.from({length: 50}, (_, i) => i + 11))
    const three = await t.json(['events', '-n', '3'])
    expect(three.body.map((e: {id: number}) => e.id)).toEqual([58, 59, 60])
    const human = await t.run(['events', '--count', '2'])
    expect(human.stdout.split('\n')).toHaveLength(2)
    expect(human.stdout).toContain('3059')
  })

  it('--follow -n 1 prints the last event, then the new ones', async () => {
    await t.run(['supervisor', 'start'])
    await t.run(['tunnel', 'start', '3000'])
    const follow = t.spawn(['events', '--follow', '--json', '-n', '1'])
    let out = ''
    follow.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      await waitFor('the last event to be printed', () => out.includes('\n'))
      await t.run(['tunnel', 'stop', '3000'])
      await waitFor('the tunnel.stopped event to follow', () => out.includes('tunnel.stopped'))
      const types = out.trim().split('\n').map((line) => JSON.parse(line).type)
      expect(types).toEqual(['tunnel.started', 'tunnel.stopped'])
    } finally {
      follow.kill()
      await follow
    }
  })
})
