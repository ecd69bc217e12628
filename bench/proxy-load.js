// Item 4: requests per second and latency through the expose proxy, against the origin loaded
// directly in the same run by the same load generator, with and without Basic auth.
import {median} from './harness.js'
import {LOAD_SETTINGS, loadHttp} from './load-generator.js'
import {exposeLocal} from './local-endpoint.js'

const MIN_PROXY_SHARE = 0.35
const MIN_AUTH_SHARE = 0.95
/** Rounds of direct, through the proxy, and with auth, one after another, so that a busy moment on the machine weighs on all three alike. */
const ROUNDS = 5

export async function measureProxyLoad(home, originPort) {
  const runs = {direct: [], proxied: [], authed: []}
  const endpoint = await exposeLocal(home, originPort)
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.direct.push(await loadHttp(`http://127.0.0.1:${originPort}/`))
      runs.proxied.push(await loadHttp(`http://127.0.0.1:${endpoint.proxyPort}/`, endpoint.headers))
      const authHeaders = await endpoint.withAuth()
      runs.authed.push(await loadHttp(`http://127.0.0.1:${endpoint.proxyPort}/`, authHeaders))
      await endpoint.withoutAuth()
    }
  } finally {
    await endpoint.stop()
  }

  const settings = `${LOAD_SETTINGS.tool}, ${LOAD_SETTINGS.connections} connections, ${LOAD_SETTINGS.warmupSeconds} s warm-up, ${LOAD_SETTINGS.measuredSeconds} s measured, median of ${ROUNDS} interleaved rounds`
  const rate = (results) => ({n: results.length, median: median(results.map((result) => result.requestsPerSecond)), rounds: results.map((result) => result.requestsPerSecond)})
  // Each round's two loads ran back to back, so their ratio is spared the machine's slower drifts.
  const pairedRatio = (results, baselines) => median(results.map((result, round) => result.requestsPerSecond / baselines[round].requestsPerSecond))
  // autocannon records latency in whole milliseconds; each column is the median over the rounds.
  const latency = (results) => ({
    n: results.length,
    median: median(results.map((result) => result.latencyMs.p50)),
    p99: median(results.map((result) => result.latencyMs.p99)),
  })
  const {direct, proxied, authed} = runs
  return [
    {metric: 'Proxy: origin direct', unit: 'req/s', stats: rate(direct), note: settings},
    {
      metric: 'Proxy: through the proxy, no auth',
      unit: 'req/s',
      stats: rate(proxied),
      baseline: {label: 'direct', stats: rate(direct)},
      ratio: pairedRatio(proxied, direct),
      target: {minRatio: MIN_PROXY_SHARE},
    },
    {
      metric: 'Proxy: through the proxy, Basic auth',
      unit: 'req/s',
      stats: rate(authed),
      baseline: {label: 'no auth', stats: rate(proxied)},
      ratio: pairedRatio(authed, proxied),
      target: {minRatio: MIN_AUTH_SHARE},
    },
    {metric: 'Proxy latency: origin direct', unit: 'ms', stats: latency(direct), note: 'p50 in the median column; 1 ms resolution'},
    {metric: 'Proxy latency: through the proxy, no auth', unit: 'ms', stats: latency(proxied), baseline: {label: 'direct', stats: latency(direct)}},
    {metric: 'Proxy latency: through the proxy, Basic auth', unit: 'ms', stats: latency(authed), baseline: {label: 'no auth', stats: latency(proxied)}},
  ]
}
