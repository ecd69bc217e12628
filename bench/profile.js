// `node bench/profile.js`: where tunnelctl's proxy spends its CPU under each of the bench's loads. For
// each load a supervisor of its own runs with --cpu-prof (which NODE_OPTIONS may not carry, so this
// starts it as the CLI would, with the flag added), is loaded through a local endpoint, and is
// stopped, which writes its profile; printed are the functions with the most self time, as
// docs/PERFORMANCE.md keeps them. Same isolation as the bench: a temporary home, 127.0.0.1 only.
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {SUPERVISOR_ENTRY, SUPERVISOR_NODE_FLAGS} from '../dist/supervisor-launch.js'
import {BenchHome} from './home.js'
import {LOAD_SETTINGS, loadHttp} from './load-generator.js'
import {exposeLocal} from './local-endpoint.js'
import {startOrigin} from './origin-process.js'
import {LOADS} from './proxy-load.js'
import {runCommand, waitFor} from './harness.js'
import {fileURLToPath} from 'node:url'

const TOP = 12
const DOWNLOAD = fileURLToPath(new URL('download.js', import.meta.url))
const profiles = mkdtempSync(join(tmpdir(), 'tcb-prof-'))
const home = new BenchHome()
const origin = await startOrigin()
try {
  await home.cli(['config', 'set', 'supervisor.idleTimeout', '0'])
  const loads = [
    ...LOADS.map(({row, path, connections}) => ({row, run: (endpoint) => loadHttp(`http://127.0.0.1:${endpoint.proxyPort}${path}`, {headers: endpoint.headers, connections})})),
    {row: '1 GiB download', run: (endpoint) => runCommand([process.execPath, DOWNLOAD, `http://127.0.0.1:${endpoint.proxyPort}/1g`, JSON.stringify(endpoint.headers)], process.env)},
  ]
  console.log(`Self time of tunnelctl's supervisor under each load (${LOAD_SETTINGS.tool}, ${LOAD_SETTINGS.warmupSeconds} s warm-up + ${LOAD_SETTINGS.measuredSeconds} s), top ${TOP}, ${process.version}\n`)
  for (const {row, run} of loads) {
    const supervisor = spawn(process.execPath, [...SUPERVISOR_NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${profiles}`, SUPERVISOR_ENTRY], {env: home.env, cwd: home.home, stdio: 'ignore'})
    const exited = new Promise((resolve) => supervisor.once('exit', resolve))
    await waitFor('the supervisor to answer', () => home.request('GET', '/v1/status').then(() => true, () => false))
    const endpoint = await exposeLocal(home, origin.port)
    await run(endpoint)
    await endpoint.stop()
    await home.cli(['supervisor', 'stop'])
    await exited
    const {pid} = supervisor
    const file = readdirSync(profiles).find((name) => name.split('.')[3] === String(pid))
    console.log(`### ${row}\n\n${summarize(JSON.parse(readFileSync(join(profiles, file), 'utf8')))}\n`)
  }
} finally {
  await origin.stop()
  await home.cleanup()
  rmSync(profiles, {recursive: true, force: true})
}

/** The functions with the most self time, as a share of the time the process was busy (idle left out). */
function summarize({nodes, samples, timeDeltas}) {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const selfUs = new Map()
  for (const [index, id] of samples.entries()) {
    const {functionName, url, lineNumber} = byId.get(id).callFrame
    const name = `${functionName || '(anonymous)'} ${url ? `${basename(url)}:${lineNumber + 1}` : ''}`.trim()
    selfUs.set(name, (selfUs.get(name) ?? 0) + (timeDeltas[index] ?? 0))
  }

  selfUs.delete('(idle)')
  const busy = [...selfUs.values()].reduce((sum, us) => sum + us, 0)
  const top = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, TOP)
  const lines = top.map(([name, us]) => `| ${((100 * us) / busy).toFixed(1)}% | \`${name}\` |`)
  return [`busy ${(busy / 1e6).toFixed(2)} s`, '', '| self | function |', '|---|---|', ...lines].join('\n')
}
