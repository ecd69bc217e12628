// Item 1: how long a user waits for a command against a warm supervisor, next to the cost of
// starting Node at all (`node -e 0`), the floor no Node CLI can go below.
import {summarize, timeInterleaved} from './harness.js'

const WARMUP = 3
const RUNS = 25
/** The target: `tunnel list` within twice a bare Node start. */
const LIST_MAX_RATIO = 2

/** Times `tunnel list` (and, with withVersion, `--version`) interleaved with `node -e 0`; the supervisor must be running. */
export async function measureCliLatency(home, {tunnels, withVersion}) {
  const baseline = {name: 'node -e 0', argv: [process.execPath, '-e', '0'], env: home.env}
  const list = {name: 'tunnel list', argv: home.argv(['tunnel', 'list']), env: home.env}
  const version = {name: '--version', argv: home.argv(['--version']), env: home.env}
  const samples = await timeInterleaved(withVersion ? [baseline, list, version] : [baseline, list], {warmup: WARMUP, runs: RUNS})
  const floor = summarize(samples[baseline.name])
  const rows = [
    {
      metric: `CLI: tunnel list, ${tunnels} tunnels, warm`,
      unit: 'ms',
      stats: summarize(samples[list.name]),
      baseline: {label: 'node -e 0', stats: floor},
      target: {maxRatio: LIST_MAX_RATIO},
    },
  ]
  if (withVersion) {
    rows.push({metric: 'CLI: tunnelctl --version', unit: 'ms', stats: summarize(samples[version.name]), baseline: {label: 'node -e 0', stats: floor}})
  }

  return rows
}
