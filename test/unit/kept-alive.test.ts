import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {type Down, KeptAlive} from '../../src/supervisor/kept-alive.js'
import type {ExitInfo, ManagedProcess} from '../../src/supervisor/managed-process.js'

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
let ups: number[]
let kept: KeptAlive<number>
let failingStarts: number

beforeEach(() => {
  vi.useFakeTimers()
  processes = []
  downs = []
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
    onUp: (value) => ups.push(value),
  })
})
afterEach(async () => {
  await kept.stop()
  vi.useRealTimers()
})

const latest = () => processes.at(-1)!

async function crashAndRestart(): Promise<void> {
  latest().crash()
  await vi.advanceTimersByTimeAsync(0)
  await vi.advanceTimersByTimeAsync(downs.at(-1)!.delayMs)
}

describe('a kept-alive process', () => {
  it('is restarted after 1 s, then 2, 4 … up to 60 s while it keeps dying', async () => {
    expect(await kept.firstUp).toBe(processes[0].pid)
    for (let i = 0; i < 9; i++) await crashAndRestart()
    expect(downs.map((d) => d.delayMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000])
    expect(downs.map((d) => d.restarts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(ups).toEqual(processes.slice(1).map((p) => p.pid))
    expect(downs[0]).toMatchObject({reason: 'exited with code 1', lastLines: [`process ${processes[0].pid} died`]})
  })

  it('starts again from 1 s once it has stayed up 30 s', async () => {
    await kept.firstUp
    await crashAndRestart()
    await crashAndRestart()
    await vi.advanceTimersByTimeAsync(30_000)
    await crashAndRestart()
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
