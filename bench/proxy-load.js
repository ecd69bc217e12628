// The proxy under load beside its peers: requests per second for small and large bodies, a 1 GB
// download and the supervisor's memory during it, each against the origin loaded directly in the
// same round by the same client, with the CPU each proxy spent.
import {fileURLToPath} from 'node:url'
import {runCommand, median} from './harness.js'
import {LOAD_SETTINGS, loadHttp} from './load-generator.js'
import {cpuMicros, rssBytes} from './proc-stat.js'
import {exposeLocal} from './local-endpoint.js'

const MIN_AUTH_SHARE = 0.95
/** tunnelctl's ratio on each row is to be at least Caddy's, and at least this share of nginx's. */
const NGINX_SHARE = 0.7
const RSS_GROWTH_MAX_MB = 16
/** Rounds of direct, tunnelctl and each peer one after another, so that a busy moment on the machine weighs on all of them alike. */
const ROUNDS = 5
const DOWNLOAD_ROUNDS = 3
const DOWNLOAD = fileURLToPath(new URL('download.js', import.meta.url))
const RSS_SAMPLE_MS = 20

export const LOADS = [
  {row: '12 B body, 50 connections', path: '/12b', connections: 50},
  {row: '12 B body, 1 connection', path: '/12b', connections: 1},
  {row: '64 KiB body, 50 connections', path: '/64k', connections: 50},
  {row: '64 KiB body, 1 connection', path: '/64k', connections: 1},
]

/** The ways to the origin each round takes: directly, through tunnelctl's proxy, through each peer running. */
export function variants(home, originPort, endpoint, peers) {
  return [
    {name: 'direct', port: originPort, headers: {}, pids: () => []},
    {name: 'tunnelctl', port: endpoint.proxyPort, headers: endpoint.headers, pids: () => [home.supervisorPid()]},
    ...peers.filter((peer) => !peer.skipped),
  ]
}

export async function measureProxyLoad(home, originPort, peers) {
  const endpoint = await exposeLocal(home, originPort)
  const rows = []
  try {
    const ways = variants(home, originPort, endpoint, peers)
    for (const load of LOADS) rows.push(...(await measureLoad(load, ways, load.path === '/12b' && load.connections === 50 ? endpoint : undefined)))
    rows.push(...(await measureDownload(ways, home.supervisorPid())))
  } finally {
    await endpoint.stop()
  }

  return rows
}

/** One row: every way loaded once per round; with `authEndpoint`, tunnelctl with Basic auth too. */
async function measureLoad({row, path, connections}, ways, authEndpoint) {
  const runs = Object.fromEntries(ways.map(({name}) => [name, []]))
  const auth = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ways) runs[way.name].push(await measured(way, () => loadHttp(`http://127.0.0.1:${way.port}${path}`, {headers: way.headers, connections})))
    if (authEndpoint) {
      const headers = await authEndpoint.withAuth()
      const tunnelctl = ways[1]
      auth.push(await measured(tunnelctl, () => loadHttp(`http://127.0.0.1:${tunnelctl.port}${path}`, {headers, connections})))
      await authEndpoint.withoutAuth()
    }
  }

  const note = `${LOAD_SETTINGS.tool}, ${connections} connection(s), ${LOAD_SETTINGS.warmupSeconds} s warm-up, ${LOAD_SETTINGS.measuredSeconds} s measured, median of ${ROUNDS} interleaved rounds`
  const rate = (results) => ({
    n: results.length,
    median: median(results.map((result) => result.requestsPerSecond)),
    rounds: results.map((result) => result.requestsPerSecond),
    latencyP50Ms: median(results.map((result) => result.latencyMs.p50)),
    latencyP99Ms: median(results.map((result) => result.latencyMs.p99)),
  })
  // Each round's loads ran back to back, so their ratio is spared the machine's slower drifts.
  const pairedRatio = (results, baselines) => median(results.map((result, round) => result.requestsPerSecond / baselines[round].requestsPerSecond))
  const cpuPerRequest = (results) => median(results.map((result) => result.cpuUs / result.requestsWithWarmup))
  const rows = [{metric: `Proxy, ${row}: direct`, unit: 'req/s', stats: rate(runs.direct), note}]
  rows.push(...comparisonRows(row, ways, 'req/s', (name) => ({stats: rate(runs[name]), ratio: pairedRatio(runs[name], runs.direct), cpuUs: cpuPerRequest(runs[name])}), rate(runs.direct)))
  if (authEndpoint) {
    rows.push({
      metric: `Proxy, ${row}: tunnelctl, Basic auth`,
      unit: 'req/s',
      stats: rate(auth),
      baseline: {label: 'no auth', stats: rate(runs.tunnelctl)},
      ratio: pairedRatio(auth, runs.tunnelctl),
      target: {minRatio: MIN_AUTH_SHARE},
    })
  }

  return rows
}

/** A 1 GiB body through each way, with the supervisor's resident memory sampled while tunnelctl passes it. */
async function measureDownload(ways, supervisorPid) {
  const runs = Object.fromEntries(ways.map(({name}) => [name, []]))
  const rss = []
  for (let round = 0; round < DOWNLOAD_ROUNDS; round++) {
    for (const way of ways) {
      const before = rssBytes(supervisorPid)
      let peak = before
      const sampler = way.name === 'tunnelctl' ? setInterval(() => (peak = Math.max(peak, rssBytes(supervisorPid) ?? 0)), RSS_SAMPLE_MS) : undefined
      try {
        runs[way.name].push(await measured(way, () => download(way)))
      } finally {
        clearInterval(sampler)
      }

      if (sampler) rss.push({before, peak})
    }
  }

  const row = '1 GiB download'
  const rate = (results) => ({n: results.length, median: median(results.map((result) => result.mibPerSecond)), rounds: results.map((result) => result.mibPerSecond)})
  const pairedRatio = (results) => median(results.map((result, round) => result.mibPerSecond / runs.direct[round].mibPerSecond))
  const rows = [{metric: `Proxy, ${row}: direct`, unit: 'MiB/s', stats: rate(runs.direct), note: `${DOWNLOAD_ROUNDS} interleaved rounds, one download in a process of its own each`}]
  rows.push(...comparisonRows(row, ways, 'MiB/s', (name) => ({stats: rate(runs[name]), ratio: pairedRatio(runs[name]), cpuUs: median(runs[name].map((result) => result.cpuUs))}), rate(runs.direct)))
  const mb = (bytes) => bytes / 2 ** 20
  rows.push(
    {metric: `Proxy, ${row}: supervisor RSS at the start`, unit: 'MB', stats: {median: median(rss.map(({before}) => mb(before)))}},
    {metric: `Proxy, ${row}: supervisor RSS peak`, unit: 'MB', stats: {median: median(rss.map(({peak}) => mb(peak)))}, note: `sampled every ${RSS_SAMPLE_MS} ms`},
    {metric: `Proxy, ${row}: supervisor RSS growth`, unit: 'MB', stats: {median: Math.max(...rss.map(({before, peak}) => mb(peak - before)))}, target: {max: RSS_GROWTH_MAX_MB}, note: 'the largest of the rounds'},
  )
  return rows
}

/**
 * The rows of every proxy on one load, each with its ratio to direct and CPU, tunnelctl's with its
 * target: Caddy's ratio, and NGINX_SHARE of nginx's, in this run.
 */
export function comparisonRows(row, ways, unit, measure, directStats) {
  const proxies = ways.slice(1).map(({name}) => ({name, ...measure(name)}))
  const peerRatio = (name) => proxies.find((proxy) => proxy.name === name)?.ratio
  const floors = [peerRatio('Caddy'), peerRatio('nginx') === undefined ? undefined : NGINX_SHARE * peerRatio('nginx')].filter((ratio) => ratio !== undefined)
  return proxies.map(({name, stats, ratio, cpuUs}) => ({
    metric: `Proxy, ${row}: ${name}`,
    unit,
    stats,
    baseline: {label: 'direct', stats: directStats},
    ratio,
    cpuUs,
    comparison: {row, proxy: name},
    ...(name === 'tunnelctl' && floors.length > 0 && {target: {minRatio: Math.max(...floors)}}),
  }))
}

/** Runs `load` through `way`, adding the CPU its processes spent meanwhile. */
export async function measured(way, load) {
  const before = cpuMicros(way.pids())
  const result = await load().catch((error) => {
    throw new Error(`through ${way.name}: ${error.message}`)
  })
  const after = cpuMicros(way.pids())
  return {...result, cpuUs: before === undefined || after === undefined ? undefined : after - before}
}

async function download(way) {
  const {stdout} = await runCommand([process.execPath, DOWNLOAD, `http://127.0.0.1:${way.port}/1g`, JSON.stringify(way.headers)], process.env)
  const {bytes, ms} = JSON.parse(stdout)
  if (bytes !== 2 ** 30) throw new Error(`the download through ${way.name} gave ${bytes} bytes, not ${2 ** 30}`)
  return {mibPerSecond: bytes / 2 ** 20 / (ms / 1000), ms}
}
