// `npm run bench`: measures what users feel, each figure next to a baseline taken in the same run,
// and prints a table and writes bench/results.json. It drives the built CLI (bin/run.js, dist/) in a
// temporary TUNNELCTL_HOME with the fake cloudflared first on PATH, on 127.0.0.1 only, and ends every
// process it started, whatever happens. Timings are reported, never asserted.
import {loadavg} from 'node:os'
import {fileURLToPath} from 'node:url'
import {findFreeLoopbackPort} from '../dist/ports.js'
import {measureCliLatency} from './cli-latency.js'
import {measureColdStart} from './cold-start.js'
import {interruptCommands} from './harness.js'
import {BenchHome} from './home.js'
import {LOCAL_HOST} from './local-endpoint.js'
import {startOrigin} from './origin-process.js'
import {measureProxyLoad} from './proxy-load.js'
import {measureRecordingCost, measureRecordingMemory} from './recording.js'
import {measureRecordingInstructions} from './recording-instructions.js'
import {startPeers, stopPeers} from './peers.js'
import {judge, machine, renderComparison, renderTable, writeResults} from './report.js'
import {BENCH_PROVIDER, measureScale} from './scale.js'
import {measureTimeToUrl} from './time-to-url.js'
import {measureWebSocket} from './websocket.js'

const RESULTS = fileURLToPath(new URL('results.json', import.meta.url))
// Quick tunnels for the scale section point at ports from here up; nothing needs to listen there.
const FIRST_TUNNEL_PORT = 41_000

/** Sections named on the command line (`node bench/run.js proxy WebSocket`, or `'recording memory'`; `recording` names all three of its) run alone, and their figures are printed but not recorded: a part of a run is no record. */
const only = process.argv.slice(2)
const startedAt = new Date()
const machineAtStart = machine()
const home = new BenchHome()
let origin
let peers = []
/** Pids still running after `supervisor stop`, killed by the cleanup: there should be none. */
let leftAfterStop = []
const rows = []
let failed = false
let interrupted = false

// Ctrl-C must not leave a supervisor and 100 fake cloudflareds behind: the running section fails
// fast, no other starts, and the cleanup below runs as always.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping and cleaning up`)
    interrupted = true
    interruptCommands()
  })
}

try {
  await configure()
  origin = await startOrigin()
  peers = await startPeers(origin.port)
  for (const peer of peers) if (peer.skipped) console.error(`bench: ${peer.name} left out: ${peer.skipped}`)
  const sections = [
    ['cold start', () => measureColdStart(home)],
    ['CLI latency', () => measureCliLatency(home, {tunnels: 0, withVersion: true})],
    ['time to URL', () => measureTimeToUrl(home, origin.port)],
    ['proxy', () => measureProxyLoad(home, origin.port, peers)],
    ['WebSocket', () => measureWebSocket(home, origin.port, peers)],
    ['scale', () => measureScale(home, {originPort: origin.port, firstTunnelPort: FIRST_TUNNEL_PORT})],
    ['recording cost', () => measureRecordingCost(home, origin.port)],
    ['recording memory', () => measureRecordingMemory(home, origin.port)],
    // Last: it puts a supervisor under callgrind in place of the bench's own.
    ['recording instructions', () => measureRecordingInstructions(home, origin.port)],
  ]
  // A section runs when named in full or by its first word: `recording` runs all three of its sections.
  const picked = (name) => only.length === 0 || only.includes(name) || only.includes(name.split(' ')[0])
  for (const [name, measure] of sections.filter(([name]) => picked(name))) {
    if (interrupted) break
    console.error(`bench: ${name}…`)
    try {
      rows.push(...(await measure()).map(judge))
    } catch (error) {
      failed = true
      if (!interrupted) console.error(error)
      rows.push({metric: name, error: error.message.split('\n')[0]})
    }
  }
} catch (error) {
  failed = true
  console.error(error)
} finally {
  await stopPeers(peers)
  await origin?.stop()
  leftAfterStop = await home.cleanup()
  if (leftAfterStop.length > 0) console.error(`bench: killed ${leftAfterStop.length} process(es) that outlived \`supervisor stop\`: ${leftAfterStop.join(', ')}`)
}

// An interrupted run measured only part of what it should: it is no record.
if (interrupted) process.exit(130)

const results = {
  date: startedAt.toISOString(),
  durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  machine: {...machineAtStart, loadAverage1mAtEnd: loadavg()[0]},
  notes: [
    'Medians of repeated runs; each ratio is to a baseline measured in the same run.',
    'CLI times are wall time from spawn to exit of `node bin/run.js …`, interleaved with `node -e 0` runs.',
    'Time to URL: the moment is when the fake cloudflared wrote its URL row (FAKE_CLOUDFLARED_REGISTER_DELAY_MS=0: it registers its connection right after, so the tunnel is usable then); overhead = URL on the CLI stdout minus that moment.',
    'Proxy: autocannon (or the download client, bench/download.js) in its own process, the origin (bench/origin.js) in another, tunnelctl\'s proxy in the supervisor, Caddy (reverse_proxy) and nginx (one worker, upstream keepalive, proxy_buffering on as by default) in front of the same origin when installed; rounds of direct, tunnelctl (and with auth on the first row), Caddy and nginx one after another, medians over the rounds (a ratio is the median of the ratios within each round); latency in whole ms (autocannon). CPU: utime+stime from /proc of the supervisor (all of tunnelctl\'s proxy work) or of the peer\'s processes, before and after each load, per request including warm-up (per round trip for WebSocket, per download for the 1 GiB row).',
    'Scale: tunnels and endpoints started through the control socket, 100 concurrent POSTs each, on a freshly started supervisor; the printf provider takes ~0 ms, so restore times are tunnelctl\'s own.',
    'Recording cost: inspect.keep 500 (the default) against 0 in interleaved rounds, timed, and counted in instructions with the supervisor under valgrind\'s callgrind (where /usr/bin/valgrind is installed); the targets (5% for small bodies, 2% for a 1 GiB download) are judged on the counts, which a shared machine does not move; for small bodies, on the count\'s excess scaled by the user-space share of the supervisor\'s CPU time (/proc), since recording makes no system calls.',
  ],
  results: rows,
  leftAfterSupervisorStop: leftAfterStop.length,
}
if (only.length === 0) writeResults(RESULTS, results)
const {cpu, cores, node, loadAverage1mAtStart, loadAverage1mAtEnd} = results.machine
const load = `load ${loadAverage1mAtStart.toFixed(1)} at start, ${loadAverage1mAtEnd.toFixed(1)} at end`
console.log(`tunnelctl bench, ${results.date}, ${cores} x ${cpu}, Node ${node}, ${load}, ${results.durationSeconds} s\n`)
console.log(renderTable(rows))
if (rows.some((row) => row.comparison)) console.log(`\nEach proxy's ratio to direct (CPU it spent per request):\n${renderComparison(rows)}`)
console.log(`\n${results.notes.join('\n')}`)
console.log(only.length === 0 ? `\nWrote ${RESULTS}.` : `\nOnly ${only.join(', ')}: ${RESULTS} left as it was.`)
process.exitCode = failed ? 1 : 0

async function configure() {
  const settings = {
    'supervisor.idleTimeout': '0',
    'local.address': '127.0.0.1',
    'local.port': String(await findFreeLoopbackPort()),
    'local.hostname': LOCAL_HOST,
    [`custom.${BENCH_PROVIDER}.command`]: "printf 'Forwarding https://fwd-%s.bench.test -> %s\\n' $$ {port}; exec sleep 1000000",
    [`custom.${BENCH_PROVIDER}.match`]: 'Forwarding https://(\\S+)',
    [`custom.${BENCH_PROVIDER}.url`]: 'https://{1}',
  }
  for (const [key, value] of Object.entries(settings)) await home.cli(['config', 'set', key, value])
}
