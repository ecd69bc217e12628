// Item 4: requests per second and latency through the expose proxy, against the origin loaded
// directly in the same run by the same load generator, with and without Basic auth.
import {LOAD_SETTINGS, loadHttp} from './load-generator.js'
import {exposeLocal} from './local-endpoint.js'

const MIN_PROXY_SHARE = 0.35
const MIN_AUTH_SHARE = 0.95

export async function measureProxyLoad(home, originPort) {
  const direct = await loadHttp(`http://127.0.0.1:${originPort}/`)
  const proxied = await loadThroughProxy(home, originPort, {auth: false})
  const authed = await loadThroughProxy(home, originPort, {auth: true})
  const settings = `${LOAD_SETTINGS.tool}, ${LOAD_SETTINGS.connections} connections, ${LOAD_SETTINGS.warmupSeconds} s warm-up, ${LOAD_SETTINGS.measuredSeconds} s measured`
  const rate = (result) => ({median: result.requestsPerSecond})
  // autocannon records latency in whole milliseconds.
  const latency = (result) => ({median: result.latencyMs.p50, p99: result.latencyMs.p99})
  return [
    {metric: 'Proxy: origin direct', unit: 'req/s', stats: rate(direct), note: settings},
    {
      metric: 'Proxy: through the proxy, no auth',
      unit: 'req/s',
      stats: rate(proxied),
      baseline: {label: 'direct', stats: rate(direct)},
      target: {minRatio: MIN_PROXY_SHARE},
    },
    {
      metric: 'Proxy: through the proxy, Basic auth',
      unit: 'req/s',
      stats: rate(authed),
      baseline: {label: 'no auth', stats: rate(proxied)},
      target: {minRatio: MIN_AUTH_SHARE},
    },
    {metric: 'Proxy latency: origin direct', unit: 'ms', stats: latency(direct), note: 'p50 in the median column; 1 ms resolution'},
    {metric: 'Proxy latency: through the proxy, no auth', unit: 'ms', stats: latency(proxied), baseline: {label: 'direct', stats: latency(direct)}},
    {metric: 'Proxy latency: through the proxy, Basic auth', unit: 'ms', stats: latency(authed), baseline: {label: 'no auth', stats: latency(proxied)}},
  ]
}

async function loadThroughProxy(home, originPort, {auth}) {
  const endpoint = await exposeLocal(home, originPort, {auth})
  try {
    return await loadHttp(`http://127.0.0.1:${endpoint.proxyPort}/`, endpoint.headers)
  } finally {
    await endpoint.stop()
  }
}
