import {join} from 'node:path'
import bcrypt from 'bcryptjs'
import {afterEach, describe, expect, it} from 'vitest'
import {PasswordChecks} from '../../src/supervisor/proxy/password-checks.js'
import {ReverseProxy} from '../../src/supervisor/proxy/reverse-proxy.js'
import {ROOT} from '../helpers/cli.js'
import {basicAuthorization, sendWithHost, Upstream} from '../helpers/http.js'
import {SUPERVISOR_BUNDLE, TEST_SOURCE} from '../helpers/proxy-harness.js'

const FIXTURE_WORKER = join(ROOT, 'test', 'fixtures', 'password-worker.js')

let cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  cleanups = []
})

function pool(script: string, limits?: {workers: number; waiting: number}): PasswordChecks {
  const checks = new PasswordChecks(script, limits)
  cleanups.push(() => checks.close())
  return checks
}

/** Whether the check settles as a match, a mismatch, or a failure; undefined when it was turned away. */
function outcome(check: Promise<boolean> | undefined): Promise<boolean | 'failed'> | undefined {
  return check?.then(
    (ok) => ok,
    () => 'failed' as const,
  )
}

describe('the password check pool', () => {
  it('checks bcrypt hashes in worker threads that run the supervisor bundle', async () => {
    const hash = await bcrypt.hash('right', 4)
    const checks = pool(SUPERVISOR_BUNDLE)

    expect(await Promise.all([checks.check('right', hash), checks.check('wrong', hash), checks.check('right', 'not a bcrypt hash')])).toEqual([true, false, false])
  })

  it('turns away at once every check past the running and waiting ones, and takes new ones once they are done', async () => {
    const checks = pool(FIXTURE_WORKER, {workers: 1, waiting: 2})

    const burst = Array.from({length: 10}, () => checks.check('wrong', 'hash'))
    const started = burst.filter((check) => check !== undefined)

    expect(started, 'one running and two waiting').toHaveLength(3)
    expect(burst.slice(3), 'the seven after them').toEqual(Array(7).fill(undefined))
    expect(await Promise.all(started)).toEqual([false, false, false])
    expect(await checks.check('right', 'hash'), 'a check once the line is empty').toBe(true)
  })

  it('fails the check a dying worker was running, never as a match, and starts another worker for the next', async () => {
    const checks = pool(FIXTURE_WORKER, {workers: 1, waiting: 2})

    const dying = outcome(checks.check('die', 'hash'))
    const queued = outcome(checks.check('right', 'hash'))

    expect(await dying).toBe('failed')
    expect(await queued, 'the check waiting behind it, run by a new worker').toBe(true)
  })

  it('ends its workers when closed: what runs and what waits fails, and nothing more is taken', async () => {
    const checks = pool(FIXTURE_WORKER, {workers: 1, waiting: 2})
    const hanging = outcome(checks.check('hang', 'hash'))
    const waiting = outcome(checks.check('right', 'hash'))

    await checks.close()

    expect(await Promise.all([hanging, waiting])).toEqual(['failed', 'failed'])
    expect(checks.check('right', 'hash')).toBeUndefined()
  })

  it('answers 401 for a password whose worker died, then lets the right one in', async () => {
    const upstream = new Upstream()
    cleanups.push(() => upstream.close())
    const proxy = new ReverseProxy({passwordChecks: pool(FIXTURE_WORKER)})
    cleanups.push(() => proxy.close())
    const port = await proxy.listen()
    proxy.setRoute('app.test', {source: TEST_SOURCE, target: {kind: 'port', port: await upstream.listen()}, authHash: 'hash'})

    const died = await sendWithHost(port, 'app.test', {headers: {authorization: basicAuthorization('tunnelctl', 'die')}})
    const right = await sendWithHost(port, 'app.test', {headers: {authorization: basicAuthorization('tunnelctl', 'right')}})

    expect(died.status).toBe(401)
    expect(right.status).toBe(200)
  })
})
