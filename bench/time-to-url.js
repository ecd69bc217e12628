// Item 3: how long tunnelctl takes to hand a user the URL once cloudflared has it. The fake
// cloudflared appends `<epoch ms> <url>` to $FAKE_CLOUDFLARED_URL_TIMES as it writes its URL row, and
// registers its connection right after (FAKE_CLOUDFLARED_REGISTER_DELAY_MS=0), so that moment is when
// the tunnel becomes usable. The overhead is from then to the URL appearing on `tunnel start`'s stdout.
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {COMMAND_TIMEOUT_MS, commandSignal, summarize} from './harness.js'

const WARMUP = 3
const RUNS = 25
const MAX_OVERHEAD_MS = 30
const FORWARDING = /Forwarding (https:\/\/\S+)/

/** `port` should be listening, as a user's app would be: tunnelctl checks and warns otherwise. */
export async function measureTimeToUrl(home, port) {
  const overheads = []
  const walls = []
  for (let round = 0; round < WARMUP + RUNS; round++) {
    const {url, printedAt, ms} = await startTunnel(home, port)
    const recordedAt = urlMoment(home.urlTimes, url)
    await home.cli(['tunnel', 'stop', String(port)])
    if (round < WARMUP) continue
    overheads.push(printedAt - recordedAt)
    walls.push(ms)
  }

  return [
    {
      metric: 'Time to URL: tunnel start, printed - cloudflared wrote it',
      unit: 'ms',
      stats: summarize(overheads),
      target: {max: MAX_OVERHEAD_MS},
      note: 'from the fake cloudflared writing its URL row (connection registered right after) to the URL on the CLI stdout',
    },
    {metric: 'Time to URL: tunnel start, whole command', unit: 'ms', stats: summarize(walls)},
  ]
}

/** Runs `tunnel start`, noting the moment the URL shows on its stdout. */
function startTunnel(home, port) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const [file, ...args] = home.argv(['tunnel', 'start', String(port)])
    const child = spawn(file, args, {env: home.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', signal: commandSignal})
    let stdout = ''
    let stderr = ''
    let seen
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk
      const match = seen ? undefined : FORWARDING.exec(stdout)
      if (match) seen = {url: match[1], printedAt: performance.timeOrigin + performance.now()}
    })
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => {
      if (code === 0 && seen) resolve({...seen, ms: performance.now() - started})
      else reject(new Error(`tunnel start ${port} exited with ${code}:\n${stderr || stdout}`))
    })
  })
}

function urlMoment(file, url) {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .findLast((entry) => entry.endsWith(` ${url}`))
  if (!line) throw new Error(`the fake cloudflared recorded no moment for ${url}`)
  return Number(line.split(' ')[0])
}
