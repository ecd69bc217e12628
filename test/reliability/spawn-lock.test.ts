import {execa} from 'execa'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ROOT} from '../helpers/cli.js'
import {recordFigure} from '../helpers/figures.js'

/**
 * The spawn lock under contention, process against process: every holder dies holding it, so that
 * each turn is a steal that all the waiting processes race for. Two holders at once would mean two
 * supervisors spawned.
 */
const WORKERS = 24
// Each worker takes the lock once: marks itself inside (O_EXCL, so a second holder is caught), stays a
// moment, leaves, and exits without releasing, as a command killed while spawning would.
const WORKER = `
  import {closeSync, openSync, unlinkSync, writeFileSync} from 'node:fs'
  import {join} from 'node:path'
  import {setTimeout as delay} from 'node:timers/promises'
  import {tryAcquireLock} from ${JSON.stringify(join(ROOT, 'dist', 'lock-file.js'))}
  const [dir, startAt] = process.argv.slice(-2)
  while (Date.now() < Number(startAt)) await delay(1)
  const deadline = Date.now() + 60_000
  while (!tryAcquireLock(join(dir, 'spawn.lock'))) {
    if (Date.now() > deadline) process.exit(3)
    await delay(Math.random() * 2)
  }
  try {
    closeSync(openSync(join(dir, 'inside'), 'wx'))
  } catch {
    writeFileSync(join(dir, 'overlap-' + process.pid), '')
    process.exit(0)
  }
  await delay(5)
  unlinkSync(join(dir, 'inside'))
`

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tc-lock-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe('the spawn lock', () => {
  it(`${WORKERS} processes that each die holding it, starting from a stale lock: never two holders at once, and every one gets it`, async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    writeFileSync(join(dir, 'spawn.lock'), String(dead), {mode: 0o600})
    const startAt = Date.now() + 2000
    const workers = Array.from({length: WORKERS}, () =>
      execa(process.execPath, ['--input-type=module', '-e', WORKER, dir, String(startAt)], {reject: false, timeout: 90_000}),
    )
    const results = await Promise.all(workers)
    expect(results.map((r) => r.exitCode), results.map((r) => r.stderr).join('\n')).toEqual(results.map(() => 0))
    const overlaps = readdirSync(dir).filter((name) => name.startsWith('overlap-'))
    expect(overlaps, 'processes that took the lock while another held it').toEqual([])
    // Left by the last one to die holding it.
    expect(readFileSync(join(dir, 'spawn.lock'), 'utf8')).toMatch(/^\d+/)
    recordFigure('Faults', 'Spawn lock stolen from dead holders', `${WORKERS} of ${WORKERS} processes took it in turn, 0 overlaps`)
  })
})
