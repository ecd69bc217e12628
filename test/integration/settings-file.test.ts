import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {WebhookReceiver} from '../helpers/webhook-receiver.js'

/**
 * A settings file that cannot be used, for a moment (an editor halfway through a save) or for good,
 * must never take the supervisor down nor keep it from stopping.
 */
let t: TestHome
let receiver: WebhookReceiver
beforeEach(() => {
  t = new TestHome()
  receiver = new WebhookReceiver()
})
afterEach(async () => {
  await receiver.close()
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const configFile = () => join(t.home, 'config.json')
const supervisorLog = () => readFileSync(join(t.home, 'run', 'supervisor.log'), 'utf8')
const settingsInvalid = () => t.eventsLog().filter((e) => e.type === 'settings.invalid')
const ports = async () => (await t.json(['tunnel', 'list'])).body.map((tunnel: {port: number}) => tunnel.port)
// The supervisor reads its settings at least once a second (its idle check): a few seconds is many reads.
const SEVERAL_READS_MS = 3000

describe('a settings file that stops being valid JSON', () => {
  it('leaves the supervisor, its tunnels and its endpoints running on the last good settings, is said once, and is taken up again once fixed', async () => {
    expect((await t.run(['config', 'set', 'notify.webhook', await receiver.start()])).exitCode).toBe(0)
    const good = readFileSync(configFile(), 'utf8')
    expect((await t.run(['tunnel', 'start', '3000'])).exitCode).toBe(0)
    const endpoint = await t.json(['expose', 'start', '3002', '--provider', 'cloudflare'])
    expect(endpoint.exitCode, endpoint.stderr).toBe(0)
    const pid = t.supervisorPid()

    writeFileSync(configFile(), '{')
    // Delivered to the webhook of the last good settings.
    const invalid: any = await waitFor('a settings.invalid event at the webhook', () => receiver.received.find((e: any) => e.type === 'settings.invalid'))
    expect(invalid).toMatchObject({file: configFile(), reason: expect.stringContaining('JSON')})
    await delay(SEVERAL_READS_MS)

    const started = await t.run(['tunnel', 'start', '3001'])
    expect(started.exitCode, started.stderr).toBe(0)
    expect(await ports()).toEqual([3000, 3001])
    expect((await t.json(['expose', 'list'])).body).toEqual([expect.objectContaining({id: endpoint.body.id, url: endpoint.body.url, status: 'up', restarts: 0})])
    expect(t.supervisorPid()).toBe(pid)
    await waitFor('the second tunnel to reach the webhook', () => receiver.received.some((e: any) => e.type === 'tunnel.started' && e.port === 3001))
    expect(settingsInvalid(), 'said once').toHaveLength(1)
    expect(t.eventsLog().filter((e) => e.type === 'tunnel.stopped' || e.type === 'supervisor.stopped')).toEqual([])
    expect(supervisorLog()).toContain(`the settings file ${configFile()} cannot be used: ${invalid.reason}. Fix it or delete it;`)
    expect(supervisorLog()).not.toContain('uncaught')

    const events = await t.run(['events'])
    expect(events.stdout.replaceAll(t.home, '<home>')).toContain(
      `settings.invalid  <home>/config.json: ${invalid.reason}; the supervisor keeps the settings it last read until the file is fixed or deleted`,
    )

    writeFileSync(configFile(), good)
    await waitFor('the supervisor to take the file up again', () => supervisorLog().includes(`the settings file ${configFile()} is valid again`))
    writeFileSync(configFile(), '[]')
    await waitFor('the new problem to be said', () => settingsInvalid().length === 2)
    expect(settingsInvalid()[1]).toMatchObject({file: configFile(), reason: 'it is not a JSON object'})
    expect(await ports()).toEqual([3000, 3001])
  })

  it('`supervisor stop` stops the supervisor and its tunnels all the same, and the next command starts a fresh one', async () => {
    const tunnel = await t.json(['tunnel', 'start', '3000'])
    const pid = t.supervisorPid()!
    writeFileSync(configFile(), '{')
    await delay(SEVERAL_READS_MS)

    const stop = await t.run(['supervisor', 'stop'])
    expect(stop, 'supervisor stop').toMatchObject({exitCode: 0, stdout: `Stopped the supervisor (pid ${pid}) and 1 tunnel.`})
    expect(isAlive(pid)).toBe(false)
    expect(isAlive(tunnel.body.pid)).toBe(false)

    const again = await t.run(['tunnel', 'start', '3000'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(t.supervisorPid()).not.toBe(pid)
    await waitFor('the new supervisor to say what is wrong with the file', () => settingsInvalid().length === 2)
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the supervisor cleanly all the same', async (signal) => {
    const tunnel = await t.json(['tunnel', 'start', '3000'])
    const pid = t.supervisorPid()!
    writeFileSync(configFile(), '{')
    await delay(SEVERAL_READS_MS)

    process.kill(pid, signal)
    await waitFor(`the supervisor to exit on ${signal}`, () => !isAlive(pid))
    expect(isAlive(tunnel.body.pid)).toBe(false)
    expect(existsSync(join(t.home, 'run', 'supervisor.sock')), 'socket left').toBe(false)
    expect(existsSync(join(t.home, 'run', 'supervisor.pid')), 'pid file left').toBe(false)
    expect(t.eventsLog().at(-1)).toMatchObject({type: 'supervisor.stopped', reason: `signal ${signal}`})
  })

  it('is a problem for doctor, with the fix', async () => {
    writeFileSync(configFile(), '{"notify": {"webhook": ', {mode: 0o600})
    const result = await t.run(['doctor', '--json'])
    expect(result.exitCode).toBe(1)
    const check = JSON.parse(result.stdout).checks.find((c: {id: string}) => c.id === 'settings')
    expect(check).toEqual({
      id: 'settings',
      status: 'problem',
      summary: expect.stringMatching(new RegExp(`^${configFile()} cannot be used: .*JSON`)),
      fix: `Correct it (it must be one JSON object), or delete it to go back to the defaults: rm ${configFile()}`,
    })

    const human = await t.run(['doctor'])
    expect(human.exitCode).toBe(1)
    expect(human.stdout.replaceAll(t.home, '<home>')).toContain(
      `problem  settings: ${check.summary.replaceAll(t.home, '<home>')}\n` +
        '         fix: Correct it (it must be one JSON object), or delete it to go back to the defaults: rm <home>/config.json\n',
    )
  })
})

describe('a settings file that holds a bad value', () => {
  const TOKEN = 'not a token, but secret'
  const handEdited = (webhook: string, more: Record<string, unknown> = {}) =>
    JSON.stringify({
      notify: {webhook},
      supervisor: {idleTimeout: 'abc'},
      local: {port: 70_000},
      cloudflare: {token: TOKEN},
      someday: {feature: true},
      ...more,
    })

  it('is said once per bad value, naming the key, the value and what is accepted; the other keys keep working; a fix is heard', async () => {
    const webhook = await receiver.start()
    expect((await t.run(['config', 'set', 'notify.webhook', webhook])).exitCode).toBe(0)
    expect((await t.run(['tunnel', 'start', '3000'])).exitCode).toBe(0)
    const pid = t.supervisorPid()

    writeFileSync(configFile(), handEdited(webhook))
    // Delivered: notify.webhook, valid, keeps working beside the bad values.
    await waitFor('three settings.invalid events at the webhook', () => receiver.received.filter((e: any) => e.type === 'settings.invalid').length === 3)
    expect(receiver.received.filter((e: any) => e.type === 'settings.invalid')).toEqual([
      expect.objectContaining({
        file: configFile(),
        key: 'supervisor.idleTimeout',
        value: 'abc',
        reason: 'supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc".',
      }),
      expect.objectContaining({file: configFile(), key: 'local.port', value: 70_000, reason: 'local.port must be a port from 1 to 65535, not "70000".'}),
      expect.objectContaining({file: configFile(), key: 'cloudflare.token', value: '(hidden)', reason: expect.stringContaining('cloudflare.token must be')}),
    ])
    await delay(SEVERAL_READS_MS)

    expect((await t.run(['tunnel', 'start', '3001'])).exitCode).toBe(0)
    await waitFor('the second tunnel to reach the webhook', () => receiver.received.some((e: any) => e.type === 'tunnel.started' && e.port === 3001))
    expect(settingsInvalid(), 'said once each; an unknown key is not a problem for the supervisor').toHaveLength(3)
    expect(t.supervisorPid()).toBe(pid)
    expect(supervisorLog()).toContain(
      `the setting supervisor.idleTimeout in ${configFile()} is "abc", which is not valid: supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc". Until it is fixed the supervisor uses its default, 300`,
    )
    expect(supervisorLog()).toContain(`the setting local.port in ${configFile()} is 70000, which is not valid`)
    expect(supervisorLog() + readFileSync(join(t.home, 'events.log'), 'utf8'), 'a secret never reaches the log').not.toContain(TOKEN)
    const events = await t.run(['events'])
    expect(events.stdout.replaceAll(t.home, '<home>')).toContain(
      'settings.invalid  <home>/config.json: supervisor.idleTimeout is "abc": supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc". Until it is fixed the supervisor uses the setting\'s default, if any',
    )

    // `config` works on a file with bad values, and the supervisor hears the fix.
    expect((await t.run(['config', 'unset', 'supervisor.idleTimeout'])).exitCode).toBe(0)
    await waitFor('the fix to be heard', () => supervisorLog().includes(`the setting supervisor.idleTimeout in ${configFile()} is valid again`))
    expect(supervisorLog()).not.toContain('local.port in ' + configFile() + ' is valid again')
    // Bad again: a new problem, said again; and a bad webhook is said too, to the events log.
    writeFileSync(configFile(), handEdited('ftp://x', {supervisor: {idleTimeout: -1}}))
    await waitFor('the new problems to be said', () => settingsInvalid().length === 5)
    expect(settingsInvalid().slice(3)).toEqual([
      expect.objectContaining({key: 'notify.webhook', value: 'ftp://x', reason: 'notify.webhook must be an http or https URL, not ftp.'}),
      expect.objectContaining({key: 'supervisor.idleTimeout', value: -1}),
    ])
    expect(await ports()).toEqual([3000, 3001])
  })

  it('`config list` shows each bad value marked invalid, with why, and the keys it does not know', async () => {
    writeFileSync(configFile(), handEdited('ftp://x', {local: {port: 70_000, hostname: 'devbox.test'}}))
    const list = await t.run(['config', 'list'])
    expect(list.exitCode, list.stderr).toBe(0)
    expect(list.stdout.replaceAll(t.home, '<home>')).toMatchInlineSnapshot(`
      "KEY                     VALUE                           DESCRIPTION
      notify.webhook          "ftp://x" (invalid; not used)   URL that every event is POSTed to as JSON (http or https).
      supervisor.idleTimeout  "abc" (invalid; 300 is used)    Seconds the supervisor waits with nothing running before it exits; 0 keeps it running.
      proxy.responseTimeout   120 (default)                   Seconds an app may take to start its answer (its response head) before the proxy answers 504; 0 waits for ever.
      inspect.keep            500 (default)                   Requests recorded per tunnel and endpoint, for logs, replay and the inspector (oldest dropped first); 0 records none.
      inspect.bodyBytes       65536 (default)                 Bytes kept of each recorded request and response body; 0 keeps no bodies.
      inspect.maxMemory       64 (default)                    Megabytes all recorded requests may take together, their bodies and their entries (estimated); past it the oldest requests lose their bodies first, then the oldest requests go.
      inspect.port            0 (default)                     Port of the web inspector (\`tunnelctl inspect\`) on 127.0.0.1; 0 picks a free one. Read when the inspector starts.
      cloudflare.token        (hidden) (invalid; not used)    Token of a Cloudflare tunnel; with cloudflare.domain, expose endpoints get <name>.<domain> on it instead of quick tunnels.
      cloudflare.domain       (not set)                       Domain routed to the cloudflare.token tunnel (a wildcard DNS record *.<domain> pointing at it).
      cloudflared.path        (not set)                       The cloudflared program to run, used before the one on PATH and the one \`tunnelctl cloudflared install\` put in place.
      local.port              70000 (invalid; 18221 is used)  Port of the local provider's first endpoint; each other takes the next free one after it.
      local.address           0.0.0.0 (default)               Address the local provider listens on: 0.0.0.0 for every interface, or one interface's address.
      local.hostname          devbox.test                     Name other machines on the network reach this one by; a local endpoint's URL is http://<it>:<its port>.

      notify.webhook is invalid: notify.webhook must be an http or https URL, not ftp.
      supervisor.idleTimeout is invalid: supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc".
      cloudflare.token is invalid: cloudflare.token must be the tunnel token Cloudflare shows for \`cloudflared tunnel run --token\` (one long base64 string).
      local.port is invalid: local.port must be a port from 1 to 65535, not "70000".
      Fix each with \`tunnelctl config set <key> <value>\`, or \`tunnelctl config unset <key>\` for its default.

      Not known to this tunnelctl, and not used: "someday.feature" (a newer tunnelctl may have written them).

      Settings file: <home>/config.json"
    `)
    expect(list.stdout).not.toContain(TOKEN)

    const json = await t.json(['config', 'list'])
    expect(json.body.find((row: {key: string}) => row.key === 'supervisor.idleTimeout')).toEqual({
      key: 'supervisor.idleTimeout',
      value: 300,
      isSet: true,
      invalid: {value: 'abc', reason: 'supervisor.idleTimeout must be a whole number of seconds (0 or more), not "abc".'},
      description: expect.any(String),
    })
    expect(json.body.find((row: {key: string}) => row.key === 'cloudflare.token')).toMatchObject({value: null, invalid: {value: '(hidden)'}})
    expect(json.body.find((row: {key: string}) => row.key === 'local.hostname')).toMatchObject({value: 'devbox.test', invalid: null})
  })
})
