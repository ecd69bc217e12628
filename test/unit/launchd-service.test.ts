import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {isAlive, ROOT, TestHome, waitFor} from '../helpers/cli.js'
import {fakeServiceCalls} from '../helpers/fake-service.js'
import {socketRequest} from '../helpers/socket.js'

// The built modules: the service runs dist/supervisor.js, which is where they find it.
type BootServiceModule = typeof import('../../src/service/boot-service.js')
const {bootService, installService, uninstallService}: BootServiceModule = await import(pathToFileURL(join(ROOT, 'dist', 'service', 'boot-service.js')).href)
const {resolvePaths}: typeof import('../../src/paths.js') = await import(pathToFileURL(join(ROOT, 'dist', 'paths.js')).href)

let t: TestHome
let service: NonNullable<ReturnType<BootServiceModule['bootService']>>
let target: string
beforeEach(() => {
  t = new TestHome()
  t.env.HOME = join(t.home, 'user')
  mkdirSync(t.env.HOME)
  t.env.FAKE_SERVICE_CALLS = join(t.fakeState, 'service-calls.log')
  // macOS, chosen by the host given, not by faking process.platform: the fake launchctl plays launchd.
  service = bootService(resolvePaths(t.env), {platform: 'darwin', env: t.env, node: process.execPath, uid: process.getuid!()})!
  target = `gui/${process.getuid!()}/${service.name}`
})
afterEach(async () => {
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

const launchctlCalls = () => fakeServiceCalls(t.env)

async function supervisorPid(): Promise<number | undefined> {
  try {
    return (await socketRequest(join(t.home, 'run', 'supervisor.sock'), 'GET', '/v1/status')).body.pid
  } catch {
    return undefined
  }
}

describe('the LaunchAgent, with launchctl', () => {
  it('install boots out a loaded one, enables and bootstraps it; its supervisor answers; uninstall boots it out and deletes the plist', async () => {
    expect(service.file).toBe(join(t.env.HOME!, 'Library', 'LaunchAgents', `${service.name}.plist`))
    expect(await installService(service)).toEqual({changed: true})
    expect(launchctlCalls()).toEqual([
      ['bootout', target],
      ['enable', target],
      ['bootstrap', `gui/${process.getuid!()}`, service.file],
    ])
    const pid = await waitFor('the agent supervisor to answer', supervisorPid)
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('--no-idle-exit')

    // Installed again: the loaded agent is booted out first, since bootstrap refuses a loaded label, and
    // bootstrap is tried again while launchd is still unloading it.
    writeFileSync(join(t.fakeState, 'fake-service-launchd-draining'), '2')
    expect(await installService(service)).toEqual({changed: false})
    const bootstrap = ['bootstrap', `gui/${process.getuid!()}`, service.file]
    expect(launchctlCalls().slice(3)).toEqual([['bootout', target], ['enable', target], bootstrap, bootstrap, bootstrap])
    const second = await waitFor('the reloaded agent supervisor to answer', supervisorPid)
    expect(isAlive(pid)).toBe(false)

    expect(await uninstallService(service)).toBe(true)
    expect(launchctlCalls().slice(8)).toEqual([['bootout', target]])
    expect(existsSync(service.file)).toBe(false)
    expect(isAlive(second)).toBe(false)
    expect(await uninstallService(service)).toBe(false)
    expect(launchctlCalls()).toHaveLength(9)
  })

  it('start kickstarts a loaded agent, and bootstraps one that was booted out', async () => {
    await installService(service)
    const first = await waitFor('the agent supervisor to answer', supervisorPid)
    const calls = launchctlCalls().length
    await service.start()
    expect(launchctlCalls().slice(calls)).toEqual([['kickstart', target]])
    expect(await supervisorPid()).toBe(first)

    // `launchctl bootout` by hand (or a logout) unloads it: kickstart cannot find it (113), bootstrap loads and runs it.
    expect((await t.run(['supervisor', 'stop'])).exitCode).toBe(0)
    await waitFor('the supervisor to exit', () => !isAlive(first))
    await service.deactivate()
    await service.start()
    expect(launchctlCalls().slice(calls + 1)).toEqual([
      ['bootout', target],
      ['kickstart', target],
      ['bootstrap', `gui/${process.getuid!()}`, service.file],
    ])
    expect(await waitFor('the agent supervisor to answer again', supervisorPid)).not.toBe(first)
    expect(await service.enabled()).toBe(true)
  })
})
