// Issue 14: what recording every request costs the proxy (inspect.keep 500, the default, against
// inspect.keep 0, which records nothing), in interleaved rounds, and the supervisor's memory once
// 100 endpoints each hold inspect.keep requests with bodies up to the memory cap. The cost's targets
// are judged on the instructions it takes (recording-instructions.js): on a shared machine a round's
// time moves by more than they are.
import {Agent, request} from 'node:http'
import {fileURLToPath} from 'node:url'
import {median, runCommand} from './harness.js'
import {LOAD_SETTINGS, loadHttp} from './load-generator.js'
import {exposeLocal} from './local-endpoint.js'
import {BENCH_PROVIDER, rssMb} from './scale.js'

const ROUNDS = 9
const SMALL_CONNECTIONS = 50
/** The origin's /1g answer. */
export const DOWNLOAD_BYTES = 2 ** 30
const DOWNLOAD = fileURLToPath(new URL('download.js', import.meta.url))
const ENDPOINTS = 100
const KEEP = 500
/** Bytes of each request body: with the origin's 28-byte answer, 100 x 500 of them pass the 64 MB cap. */
const POST_BYTES = 1400
const CAP_MB = 64
const RSS_ALLOWANCE_MB = 20
/** The supervisor applies settings once a second. */
const SETTINGS_APPLIED_MS = 1500

export const measureRecordingCost = (home, originPort) => restoringKeep(home, () => measureCost(home, originPort))

export const measureRecordingMemory = (home, originPort) => restoringKeep(home, () => measureMemory(home, originPort))

/** Runs `measure`, then gives inspect.keep back its default, whatever happened. */
export async function restoringKeep(home, measure) {
  try {
    return await measure()
  } finally {
    await home.cli(['config', 'unset', 'inspect.keep'])
  }
}

/** Switches recording on (inspect.keep's default) or off, and waits for the supervisor to have read it. */
export async function record(home, on) {
  await home.cli(on ? ['config', 'unset', 'inspect.keep'] : ['config', 'set', 'inspect.keep', '0'])
  await new Promise((resolve) => setTimeout(resolve, SETTINGS_APPLIED_MS))
}

/** One download of /1g, in a process of its own; resolves with its time in ms. */
export async function download(url, headers) {
  const {stdout} = await runCommand([process.execPath, DOWNLOAD, url, JSON.stringify(headers)], process.env)
  const {bytes, ms} = JSON.parse(stdout)
  if (bytes !== DOWNLOAD_BYTES) throw new Error(`the download through the proxy brought ${bytes} bytes of ${DOWNLOAD_BYTES}`)
  return ms
}

async function measureCost(home, originPort) {
  const endpoint = await exposeLocal(home, originPort)
  const runs = {off: [], on: [], downloadOff: [], downloadOn: []}
  const url = `http://127.0.0.1:${endpoint.proxyPort}/`
  const downloadUrl = `${url}1g`
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which goes first, so that neither always follows the other's garbage.
      for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
        await record(home, on)
        ;(on ? runs.on : runs.off).push(await loadHttp(url, {headers: endpoint.headers, connections: SMALL_CONNECTIONS}))
        ;(on ? runs.downloadOn : runs.downloadOff).push(await download(downloadUrl, endpoint.headers))
      }
    }
  } finally {
    await endpoint.stop()
  }

  const rate = (results) => ({n: results.length, median: median(results.map((result) => result.requestsPerSecond)), rounds: results.map((result) => result.requestsPerSecond)})
  const time = (ms) => ({n: ms.length, median: median(ms), rounds: ms})
  const ratios = (values, baselines) => values.map((value, round) => value / baselines[round])
  /** The rounds' ratios' spread: how far apart this machine's time put two rounds of the same code. */
  const spread = (values) => `rounds' ratios ${Math.min(...values).toFixed(2)}x to ${Math.max(...values).toFixed(2)}x; the target is judged on instructions`
  const {off, on, downloadOff, downloadOn} = runs
  const smallRatios = ratios(on.map((r) => r.requestsPerSecond), off.map((r) => r.requestsPerSecond))
  const downloadRatios = ratios(downloadOn, downloadOff)
  const settings = `${LOAD_SETTINGS.tool}, ${SMALL_CONNECTIONS} connections, ${LOAD_SETTINGS.measuredSeconds} s measured, GETs of a 28-byte answer; median of ${ROUNDS} interleaved rounds`
  return [
    {metric: 'Recording: proxy, small bodies, recording off (inspect.keep 0)', unit: 'req/s', stats: rate(off), note: settings},
    {
      metric: 'Recording: proxy, small bodies, recording on',
      unit: 'req/s',
      stats: rate(on),
      baseline: {label: 'off', stats: rate(off)},
      ratio: median(smallRatios),
      note: spread(smallRatios),
    },
    {metric: 'Recording: proxy, 1 GiB download, recording off', unit: 'ms', stats: time(downloadOff), note: `one GET of ${DOWNLOAD_BYTES} bytes per round, read by a client in its own process`},
    {
      metric: 'Recording: proxy, 1 GiB download, recording on',
      unit: 'ms',
      stats: time(downloadOn),
      baseline: {label: 'off', stats: time(downloadOff)},
      ratio: median(downloadRatios),
      note: spread(downloadRatios),
    },
  ]
}

/**
 * A fresh supervisor with 100 endpoints: its RSS; then 500 POSTs to each with recording off, which
 * grows the heap by what the load itself leaves, and its RSS; then the same with recording on
 * (bodies past the 64 MB cap in all), and its RSS again.
 */
async function measureMemory(home, originPort) {
  await home.cli(['supervisor', 'stop'])
  await home.cli(['supervisor', 'start'])
  const {proxyPort} = await home.request('GET', '/v1/status')
  const started = await Promise.all(Array.from({length: ENDPOINTS}, () => home.request('POST', '/v1/endpoints', {target: String(originPort), provider: BENCH_PROVIDER})))
  const hosts = started.map(({endpoint}) => new URL(endpoint.url).host)
  await settle()
  const idle = rssMb(home.supervisorPid())
  await record(home, false)
  await load(proxyPort, hosts)
  await settle()
  const off = rssMb(home.supervisorPid())
  await record(home, true)
  await load(proxyPort, hosts)
  const {endpoints} = await home.request('GET', '/v1/endpoints')
  const held = endpoints.reduce((sum, endpoint) => sum + endpoint.requests, 0)
  if (held !== ENDPOINTS * KEEP) throw new Error(`the endpoints hold ${held} requests, not ${ENDPOINTS * KEEP}`)
  await settle()
  const on = rssMb(home.supervisorPid())
  await home.cli(['expose', 'killall'])
  return [
    {metric: `Recording: supervisor RSS, ${ENDPOINTS} endpoints, idle`, unit: 'MB', stats: {median: idle}},
    {metric: `Recording: supervisor RSS, after ${ENDPOINTS} x ${KEEP} requests, recording off`, unit: 'MB', stats: {median: off}},
    {
      metric: `Recording: supervisor RSS, ${ENDPOINTS} endpoints x ${KEEP} recorded requests`,
      unit: 'MB',
      stats: {median: on},
      baseline: {label: 'recording off', stats: {median: off}},
      target: {max: off + CAP_MB + RSS_ALLOWANCE_MB},
      note: `${POST_BYTES}-byte POST bodies and 28-byte answers: ${Math.round((ENDPOINTS * KEEP * (POST_BYTES + 28)) / 2 ** 20)} MiB of bodies seen, ${CAP_MB} MB kept at most (inspect.maxMemory); target: the RSS after the same load unrecorded, plus the cap, plus ${RSS_ALLOWANCE_MB} MB`,
    },
  ]
}

/** 500 POSTs to each host, 50 at a time over kept connections. */
async function load(proxyPort, hosts) {
  const agent = new Agent({keepAlive: true, maxSockets: 50})
  const body = Buffer.alloc(POST_BYTES, 'r')
  try {
    for (const host of hosts) await Promise.all(Array.from({length: KEEP}, () => post(proxyPort, host, body, agent)))
  } finally {
    agent.destroy()
  }
}

function post(port, host, body, agent) {
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port, method: 'POST', path: '/record', headers: {host, 'content-length': body.length}, agent}, (response) => {
      response.resume()
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`POST to ${host}: HTTP ${response.statusCode}`))))
    })
      .on('error', reject)
      .end(body)
  })
}

/** A moment for the supervisor's garbage collector to catch up. */
function settle() {
  return new Promise((resolve) => setTimeout(resolve, 3000))
}
