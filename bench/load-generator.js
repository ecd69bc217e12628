// HTTP load from autocannon's CLI in a process of its own, so that it shares an event loop with
// neither the origin nor the proxy, and every variant is loaded by the same settings.
import {createRequire} from 'node:module'
import {runCommand} from './harness.js'

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon')
const WARMUP_S = 1
const MEASURED_S = 4

/**
 * Loads the URL with GETs from `connections` keep-alive connections: WARMUP_S seconds unrecorded,
 * then MEASURED_S recorded. Any error or non-2xx answer fails the run: a fast 404 or 401 is not
 * throughput. `requestsWithWarmup` counts the warm-up's too, for the CPU they cost.
 */
export async function loadHttp(url, {headers = {}, connections}) {
  const c = String(connections)
  const args = ['--json', '-c', c, '-d', String(MEASURED_S), '--warmup', '[', '-c', c, '-d', String(WARMUP_S), ']']
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`)
  const {stdout} = await runCommand([process.execPath, AUTOCANNON, ...args, url], process.env)
  // One JSON document for the warm-up, then the measured run's.
  const [warmup, result] = stdout.trim().split('\n').slice(-2).map((line) => JSON.parse(line))
  const failed = result.errors + result.timeouts + result.non2xx
  if (failed > 0) throw new Error(`load on ${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    requestsWithWarmup: warmup.requests.total + result.requests.total,
    latencyMs: {p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean},
  }
}

export const LOAD_SETTINGS = {tool: 'autocannon', warmupSeconds: WARMUP_S, measuredSeconds: MEASURED_S}
