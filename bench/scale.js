// Item 6: a supervisor holding 100 tunnels and 100 endpoints. Tunnels and endpoints are started
// through the control socket, all at once (100 concurrent POSTs each), as 100 scripts would; `tunnel
// list` and `tunnel killall` are timed through the CLI, as a user runs them.
import {performance} from 'node:perf_hooks'
import {isRunning} from '../dist/process/process-alive.js'
import {measureCliLatency} from './cli-latency.js'
import {median, summarize, waitFor} from './harness.js'
import {rssBytes} from './proc-stat.js'

const COUNT = 100
const START_TIMEOUT_MS = 120_000
const KILLALL_MAX_MS = 3000
const RSS_MAX_MB = 80
const RESTORE_MAX_MS = 1000
const RESTORE_RUNS = 5
/** The custom provider run.js configures: a shell printf, so that the provider's own time is ~0. */
export const BENCH_PROVIDER = 'bench'

export async function measureScale(home, {originPort, firstTunnelPort}) {
  // A fresh supervisor: the heap that the proxy load grew earlier in the run is not what 100 tunnels
  // cost. What that load left is shown too.
  const rows = [{metric: 'Scale: supervisor RSS after the proxy and WebSocket load, idle', unit: 'MB', stats: {median: rssMb(home.supervisorPid())}}]
  await home.cli(['supervisor', 'stop'])
  await home.cli(['supervisor', 'start'])
  const idleRss = rssMb(home.supervisorPid())
  const ports = Array.from({length: COUNT}, (_, i) => firstTunnelPort + i)

  let started = performance.now()
  await Promise.all(ports.map((port) => home.request('POST', '/v1/tunnels', {port, timeoutMs: START_TIMEOUT_MS})))
  rows.push({
    metric: `Scale: start ${COUNT} tunnels at once (control socket)`,
    unit: 'ms',
    stats: {median: performance.now() - started},
    note: `${COUNT} concurrent POST /v1/tunnels, wall time until every one answered with its URL`,
  })

  rows.push(...(await measureCliLatency(home, {tunnels: COUNT, withVersion: false})))

  started = performance.now()
  await Promise.all(ports.map(() => home.request('POST', '/v1/endpoints', {target: String(originPort), provider: BENCH_PROVIDER})))
  rows.push({
    metric: `Scale: start ${COUNT} endpoints at once (control socket)`,
    unit: 'ms',
    stats: {median: performance.now() - started},
    note: `${COUNT} concurrent POST /v1/endpoints on the printf provider`,
  })

  rows.push({
    metric: `Scale: supervisor RSS, ${COUNT} tunnels + ${COUNT} endpoints`,
    unit: 'MB',
    stats: {median: rssMb(home.supervisorPid())},
    baseline: {label: 'fresh idle supervisor', stats: {median: idleRss}},
    target: {max: RSS_MAX_MB},
  })

  rows.push(await measureKillall(home))
  rows.push(await measureRestore(home))
  await home.cli(['expose', 'killall'])
  return rows
}

async function measureKillall(home) {
  const {tunnels} = await home.request('GET', '/v1/tunnels')
  if (tunnels.length !== COUNT) throw new Error(`expected ${COUNT} tunnels before killall, found ${tunnels.length}`)
  const {ms} = await home.cli(['tunnel', 'killall'])
  // Every fake cloudflared that ever ran here records its pid: none may be left once killall has answered.
  const left = home.fakeCloudflaredPids().filter((pid) => isRunning(pid))
  return {
    metric: `Scale: tunnel killall with ${COUNT} tunnels`,
    unit: 'ms',
    stats: {median: ms},
    target: {max: KILLALL_MAX_MS},
    met: ms <= KILLALL_MAX_MS && left.length === 0,
    note: `fake cloudflared processes still running right after: ${left.length}`,
  }
}

/**
 * From the command that finds no supervisor (and spawns one) until every persisted endpoint is up,
 * seen by polling GET /v1/endpoints. The printf provider prints its URL at once: what is measured is
 * tunnelctl's own work.
 */
async function measureRestore(home) {
  const times = []
  const commandTimes = []
  for (let run = 0; run < RESTORE_RUNS; run++) {
    await home.cli(['supervisor', 'stop'])
    const started = performance.now()
    commandTimes.push((await home.cli(['supervisor', 'start'])).ms)
    await waitFor(`${COUNT} endpoints up`, async () => {
      const {endpoints} = await home.request('GET', '/v1/endpoints')
      return endpoints.length === COUNT && endpoints.every((endpoint) => endpoint.status === 'up')
    })
    times.push(performance.now() - started)
  }

  return {
    metric: `Scale: supervisor start until ${COUNT} persisted endpoints are up`,
    unit: 'ms',
    stats: summarize(times),
    target: {max: RESTORE_MAX_MS},
    note: `spawn included (the command that spawned it took ${Math.round(median(commandTimes))} ms median); provider time ~0 (a printf); ${RESTORE_RUNS} runs`,
  }
}

export function rssMb(pid) {
  const bytes = rssBytes(pid)
  if (bytes === undefined) throw new Error(`no VmRSS for pid ${pid}`)
  return bytes / 1024 / 1024
}
