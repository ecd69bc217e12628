// Issue 14's recording cost in instructions: the supervisor run under valgrind's callgrind, which
// counts the instructions it runs in user space, whatever else the machine is doing. The timed rows
// (recording.js) move by more than the 2% and 5% they check from one round to the next on a shared
// machine; a count does not, so it tells whether recording stays within them.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {SUPERVISOR_ENTRY, SUPERVISOR_NODE_FLAGS} from '../dist/supervisor-launch.js'
import {median, runCommand, waitFor} from './harness.js'
import {loadHttp} from './load-generator.js'
import {exposeLocal} from './local-endpoint.js'
import {cpuSplit} from './proc-stat.js'
import {DOWNLOAD_BYTES, download, record, restoringKeep} from './recording.js'

const VALGRIND = '/usr/bin/valgrind'
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon')
const ROUNDS = 5
const SMALL_CONNECTIONS = 50
/** Requests counted per phase. */
const SMALL_REQUESTS = 6000
/** Requests sent, uncounted, each time recording is switched, before the count starts: V8 has by then done with what the switch set off (code for the other way to run again, a collection of what the last phase left). */
const SETTLING_REQUESTS = 1500
/**
 * Each way, on then off, before any is counted: V8 compiles the proxy for the way it runs, and
 * compiles it again once the other way has run; by the second time round, it has code for both, as a
 * supervisor that has run a while has.
 */
const WARMUP_CYCLES = 2
/** Timed loads on the bench's own supervisor that its CPU time is split over, user space against kernel. */
const SHARE_LOADS = 2
const MAX_SMALL_COST = 0.05
const MAX_DOWNLOAD_COST = 0.02
/** Under callgrind the supervisor runs some fifty times slower than it does alone. */
const START_TIMEOUT_MS = 120_000

/**
 * Stops the bench's supervisor and runs one under callgrind in its place, then counts its
 * instructions per small request and per 1 GiB download, with recording on and off in turn in the
 * same process: each phase's count starts at zero (`callgrind_control -z`) once the setting has
 * taken, and is read off a dump (`-d`) when the load is over. Ends it as it found it: the next
 * command starts an ordinary supervisor.
 */
export const measureRecordingInstructions = (home, originPort) => restoringKeep(home, () => underCallgrind(home, originPort))

async function underCallgrind(home, originPort) {
  if (spawnSync(VALGRIND, ['--version']).status !== 0) {
    console.error(`bench: recording instructions left out: ${VALGRIND} is not installed (Debian's valgrind)`)
    return []
  }

  const share = await userShare(home, originPort)
  await home.cli(['supervisor', 'stop'])
  const dumps = mkdtempSync(join(tmpdir(), 'tcb-callgrind-'))
  const supervisor = spawn(VALGRIND, ['--tool=callgrind', `--callgrind-out-file=${join(dumps, 'cg.%p')}`, process.execPath, ...SUPERVISOR_NODE_FLAGS, SUPERVISOR_ENTRY], {env: home.env, cwd: home.home, stdio: 'ignore'})
  const exited = new Promise((resolve) => supervisor.once('exit', resolve))
  try {
    await waitFor('the supervisor under callgrind to answer', () => home.request('GET', '/v1/status').then(() => true, () => false), {timeoutMs: START_TIMEOUT_MS, everyMs: 500})
    return await measure(home, originPort, new Counter(supervisor.pid, dumps), share)
  } finally {
    supervisor.kill('SIGTERM')
    await exited
    rmSync(dumps, {recursive: true, force: true})
  }
}

/**
 * The share of the supervisor's CPU time spent in user space under the small load, recording on,
 * or undefined where /proc cannot tell. The rest is the kernel's: the proxy's reads and writes,
 * which recording adds none of (strace counts the same system calls per request either way).
 */
async function userShare(home, originPort) {
  const endpoint = await exposeLocal(home, originPort)
  try {
    await record(home, true)
    const pid = home.supervisorPid()
    const before = cpuSplit(pid)
    for (let load = 0; load < SHARE_LOADS; load++) await loadHttp(`http://127.0.0.1:${endpoint.proxyPort}/`, {headers: endpoint.headers, connections: SMALL_CONNECTIONS})
    const after = cpuSplit(pid)
    if (before === undefined || after === undefined) return undefined
    const user = after.user - before.user
    return user / (user + after.system - before.system)
  } finally {
    await endpoint.stop()
  }
}

async function measure(home, originPort, counter, share) {
  const endpoint = await exposeLocal(home, originPort)
  const url = `http://127.0.0.1:${endpoint.proxyPort}/`
  const small = () => smallLoad(url, endpoint.headers, SMALL_REQUESTS)
  const downloadOnce = () => download(`${url}1g`, endpoint.headers).then(() => 1)
  const counts = {small: {off: [], on: []}, download: {off: [], on: []}}
  try {
    for (let cycle = 0; cycle < WARMUP_CYCLES; cycle++) {
      for (const on of [true, false]) {
        await record(home, on)
        await small()
        await downloadOnce()
      }
    }

    for (let round = 0; round < ROUNDS; round++) {
      for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
        await record(home, on)
        await smallLoad(url, endpoint.headers, SETTLING_REQUESTS)
        const way = on ? 'on' : 'off'
        counts.small[way].push(await counter.perUnit(small))
        counts.download[way].push(await counter.perUnit(downloadOnce))
      }
    }
  } finally {
    await endpoint.stop()
  }

  const stats = (values) => ({n: values.length, median: median(values), rounds: values})
  const pairedRatio = ({on, off}) => median(on.map((value, round) => value / off[round]))
  const rows = (what, unit, found, target, note) => [
    {metric: `Recording: supervisor instructions, ${what}, recording off`, unit, stats: stats(found.off), note},
    {metric: `Recording: supervisor instructions, ${what}, recording on`, unit, stats: stats(found.on), baseline: {label: 'off', stats: stats(found.off)}, ratio: pairedRatio(found), target},
  ]
  const how = `callgrind, user space only, the functions of V8's optimising compiler (v8::internal::compiler::) left out; median of ${ROUNDS} interleaved rounds' ratios in one supervisor`
  const smallRatio = pairedRatio(counts.small)
  // Without the kernel's share, which recording leaves as it is, a count of user-space instructions makes the cost look larger than it is.
  const smallTarget = {maxRatio: 1 + MAX_SMALL_COST}
  const smallCpu = share === undefined ? [] : [{
    metric: 'Recording: supervisor CPU per small request, on against off (estimated)',
    unit: 'ratio',
    stats: {median: 1 + (smallRatio - 1) * share},
    ratio: 1 + (smallRatio - 1) * share,
    target: smallTarget,
    note: `the instructions' ratio of the small rounds, its excess scaled by the user-space share of the supervisor's CPU time (${share.toFixed(3)}, from /proc over ${SHARE_LOADS} timed loads of the same kind on the bench's own supervisor): recording makes no system calls`,
  }]
  return [
    // The count alone is judged where /proc cannot tell the kernel's share.
    ...rows('small bodies', 'instr/request', counts.small, share === undefined ? smallTarget : undefined, `${how}; autocannon, ${SMALL_CONNECTIONS} connections, ${SMALL_REQUESTS} GETs of a 28-byte answer per round`),
    ...smallCpu,
    ...rows('1 GiB download', 'instr/download', counts.download, {maxRatio: 1 + MAX_DOWNLOAD_COST}, `${how}; one GET of ${DOWNLOAD_BYTES} bytes per round`),
  ]
}

/** Sends `requests` GETs; resolves with how many were answered, all with 2xx. */
async function smallLoad(url, headers, requests) {
  const args = ['--json', '-c', String(SMALL_CONNECTIONS), '-a', String(requests), '-t', '60']
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`)
  const {stdout} = await runCommand([process.execPath, AUTOCANNON, ...args, url], process.env)
  const result = JSON.parse(stdout.trim().split('\n').at(-1))
  const failed = result.errors + result.timeouts + result.non2xx
  if (failed > 0) throw new Error(`load on ${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  return result.requests.total
}

/**
 * V8's optimising compiler (TurboFan) runs in a thread beside the proxy's, and as its heuristics
 * decide: once the proxy has run the other way for a while, it may compile much of it again, which
 * a supervisor that always records does once. Its instructions are left out of every count.
 */
const COMPILER = 'compiler::'

/** Instructions a callgrind-run process spends on a piece of work, V8's compiler's left out, read off its dumps. */
class Counter {
  constructor(pid, dumps) {
    this.pid = String(pid)
    this.dumps = dumps
  }

  /** Zeroes the count, runs `work` (which resolves with how many units it did), dumps, and returns instructions per unit. */
  async perUnit(work) {
    spawnSync('callgrind_control', ['-z', this.pid], {stdio: 'ignore'})
    const units = await work()
    const before = this.files().length
    spawnSync('callgrind_control', ['-d', this.pid], {stdio: 'ignore'})
    let total
    await waitFor('callgrind to write its dump', () => this.files().length > before && (total = this.total(this.files().at(-1))) !== undefined, {timeoutMs: 60_000, everyMs: 100})
    return Math.round(total / units)
  }

  /** The dumps so far, in the order written (cg.<pid>.<n>). */
  files() {
    return readdirSync(this.dumps)
      .filter((name) => name.startsWith(`cg.${this.pid}.`))
      .sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)))
  }

  /** A dump's instructions but the compiler's, once it is written in full (its last line gives the total). */
  total(name) {
    const text = readFileSync(join(this.dumps, name), 'utf8')
    const match = /^totals: (\d+)/m.exec(text)
    return match ? Number(match[1]) - selfCost(text, (fn) => fn.includes(COMPILER)) : undefined
  }
}

/**
 * The instructions spent in the functions `picked` names, themselves (not in what they call), from
 * a dump in callgrind's format: `fn=(id) name` (the name given once, the id after), then a line per
 * cost, `<position> <instructions>`, but that the line after `calls=` is the inclusive cost of a call.
 */
function selfCost(text, picked) {
  const names = new Map()
  let counted = false
  let callCost = false
  let cost = 0
  for (const line of text.split('\n')) {
    const named = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line)
    if (named) {
      const [, kind, id, name] = named
      if (name !== undefined) names.set(id, name)
      if (kind === 'fn') counted = picked(names.get(id) ?? '')
    } else if (line.startsWith('calls=')) {
      callCost = true
    } else if (/^[\d+*-]/.test(line)) {
      if (counted && !callCost) cost += Number(line.split(' ')[1])
      callCost = false
    }
  }

  return cost
}
