import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {type Down, KeptAlive} from '../../src/process/kept-alive.js'
import type {ExitInfo, ManagedProcess} from '../../src/process/managed-process.js'

/** A process that does nothing until the test makes it exit. */
class FakeProcess {
  static count = 0
  readonly pid = ++FakeProcess.count
  readonly exited: Promise<ExitInfo>
  stopRequested = false
  private exit!: (info: ExitInfo) => void

  constructor() {
    this.exited = new Promise((resolve) => (this.exit = resolve))
  }

  crash(): void {
    this.exit({exitCode: 1, signal: null})
  }

  lastLines(): string[] {
    return [`process ${this.pid} died`]
  }

  killGroup(): void {}

  async stop(): Promise<ExitInfo> {
    this.stopRequested = true
    this.exit({exitCode: 0, signal: null})
    return this.exited
  }
}

let processes: FakeProcess[]
let downs: Down[]
let failures: Down[]
let recoveries: number[]
let ups: number[]
let kept: KeptAlive<number>
let failingStarts: number

beforeEach(() => {
  vi.useFakeTimers()
  processes = []
  downs = []
  failures = []
  recoveries = []
  ups = []
  failingStarts = 0
  kept = new KeptAlive<number>({
    owner: {kind: 'provider', provider: 'test'},
    stopGraceMs: 100,
    async start(onSpawn) {
      if (failingStarts > 0 && failingStarts--) throw new Error('could not come up\nsecond line')
      const child = new FakeProcess()
      processes.push(child)
      onSpawn(child as unknown as ManagedProcess)
      return {process: child as unknown as ManagedProcess, value: child.pid}
    },
    onDown: (down) => downs.push(down),
    onFailed: (down) => failures.push(down),
    onRecovered: (restarts) => recoveries.push(restarts),
    onUp: (value) => ups.push(value),
  })
})
afterEach(async () => {
  await kept.stop()
  vi.useRealTimers()
})

const latest = () => processes.at(-1)!

/** Crashes the latest process and waits until its successor has started: `delayMs` later. */
async function crashAndRestart(delayMs: number): Promise<void> {
  latest().crash()
  await vi.advanceTimersByTimeAsync(0)
  await vi.advanceTimersByTimeAsync(delayMs)
}

const LADDER = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]

describe('a kept-alive process', () => {
  it('is restarted after 1 s, then 2, 4 … up to 60 s while it keeps dying', async () => {
    expect(await kept.firstUp).toBe(processes[0].pid)
    for (const delayMs of LADDER) await crashAndRestart(delayMs)
    expect(processes).toHaveLength(LADDER.length + 1)
    expect(ups).toEqual(processes.slice(1).map((p) => p.pid))
    expect(downs.map((d) => d.delayMs)).toEqual(LADDER.slice(0, 4))
    expect(downs.map((d) => d.restarts)).toEqual([1, 2, 3, 4])
    expect(downs[0]).toMatchObject({reason: 'exited with code 1', lastLines: [`process ${processes[0].pid} died`]})
  })

  it('is failed at its fifth quick death in a row, then tried quietly at most every 60 s', async () => {
    await kept.firstUp
    for (const delayMs of LADDER.slice(0, 4)) await crashAndRestart(delayMs)
    expect(failures).toEqual([])
    await crashAndRestart(16_000)
    expect(failures).toEqual([expect.objectContaining({restarts: 5, delayMs: 16_000, reason: 'exited with code 1'})])
    await crashAndRestart(32_000)
    await crashAndRestart(60_000)
    expect(downs).toHaveLength(4)
    expect(failures).toHaveLength(1)
    expect(processes).toHaveLength(8)
  })

  it('recovers from failed once a process has stayed up 30 s, with a full allowance of quick deaths', async () => {
    await kept.firstUp
    for (const delayMs of LADDER.slice(0, 5)) await crashAndRestart(delayMs)
    await vi.advanceTimersByTimeAsync(29_999)
    expect(recoveries).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(recoveries).toEqual([5])
    for (const delayMs of [1000, 2000, 4000, 8000]) await crashAndRestart(delayMs)
    expect(downs).toHaveLength(4 + 4)
    expect(failures).toHaveLength(1)
    await crashAndRestart(16_000)
    expect(failures).toHaveLength(2)
  })

  it('a death after 30 s up starts the count of quick deaths again', async () => {
    await kept.firstUp
    for (const delayMs of LADDER.slice(0, 4)) await crashAndRestart(delayMs)
    await vi.advanceTimersByTimeAsync(30_000)
    for (const delayMs of [1000, 2000, 4000, 8000]) await crashAndRestart(delayMs)
    expect(failures).toEqual([])
  })

  it('starts again from 1 s once it has stayed up 30 s', async () => {
    await kept.firstUp
    await crashAndRestart(1000)
    await crashAndRestart(2000)
    await vi.advanceTimersByTimeAsync(30_000)
    await crashAndRestart(1000)
    expect(downs.map((d) => d.delayMs)).toEqual([1000, 2000, 1000])
  })

  it('waits out the delay before starting again, and not at all once stopped', async () => {
    await kept.firstUp
    latest().crash()
    await vi.advanceTimersByTimeAsync(999)
    expect(processes).toHaveLength(1)
    await kept.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(processes).toHaveLength(1)
  })

  it('a restart that fails to come up counts as another death', async () => {
    await kept.firstUp
    failingStarts = 2
    latest().crash()
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000)
    expect(downs.map((d) => [d.delayMs, d.reason])).toEqual([
      [1000, 'exited with code 1'],
      [2000, 'could not come up'],
      [4000, 'could not come up'],
    ])
    expect(processes).toHaveLength(2)
  })

  it('is not restarted after a stop it was asked for', async () => {
    await kept.firstUp
    await kept.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(downs).toEqual([])
    expect(processes).toHaveLength(1)
  })
})
