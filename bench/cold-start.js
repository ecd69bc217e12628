// Item 2: what the first command pays when no supervisor runs: spawning one and waiting for its
// socket. Each round stops the supervisor, times `supervisor start` cold, then the same command warm
// (which finds it running). Commands that only read never start one.
import {median, runCommand, summarize} from './harness.js'

const WARMUP = 1
const RUNS = 12
const MAX_OVERHEAD_MS = 150

export async function measureColdStart(home) {
  const start = home.argv(['supervisor', 'start'])
  const cold = []
  const warm = []
  for (let round = 0; round < WARMUP + RUNS; round++) {
    await home.cli(['supervisor', 'stop'])
    const coldRun = await runCommand(start, home.env)
    const warmRun = await runCommand(start, home.env)
    if (round < WARMUP) continue
    cold.push(coldRun.ms)
    warm.push(warmRun.ms)
  }

  const coldStats = summarize(cold)
  const warmStats = summarize(warm)
  return [
    {metric: 'Cold start: supervisor start, no supervisor (spawn included)', unit: 'ms', stats: coldStats, baseline: {label: 'same, warm', stats: warmStats}},
    {
      metric: 'Cold start overhead (cold - warm median)',
      unit: 'ms',
      stats: {median: median(cold) - median(warm)},
      target: {max: MAX_OVERHEAD_MS},
    },
  ]
}
