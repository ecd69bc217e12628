// Repeated wall-clock timing of whole commands, and the statistics the report gives.
import {spawn} from 'node:child_process'
import {performance} from 'node:perf_hooks'

/** Far beyond any command here, a load run included: one that hangs must not hang the bench. */
export const COMMAND_TIMEOUT_MS = 120_000

// Aborted on Ctrl-C: running commands are killed and no new one starts, so that no section can
// start a supervisor again while the cleanup stops it.
const interruption = new AbortController()
export const commandSignal = interruption.signal

export function interruptCommands() {
  interruption.abort()
}

/**
 * Runs a command to its end. Resolves with its wall time (spawn to exit, output drained) and what it
 * printed; a command that fails rejects, so that no failure is ever timed as if it were the real thing.
 */
export function runCommand([file, ...args], env) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(file, args, {env, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', signal: commandSignal})
    const out = []
    const err = []
    child.stdout.on('data', (chunk) => out.push(chunk))
    child.stderr.on('data', (chunk) => err.push(chunk))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const ms = performance.now() - started
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      if (code === 0) resolve({ms, stdout, stderr})
      else reject(new Error(`${[file, ...args].join(' ')} exited with ${signal ?? code}:\n${stderr || stdout}`))
    })
  })
}

/**
 * Times each command `runs` times after `warmup` untimed runs. Each round runs every command once,
 * in an order that rotates from round to round, so that drift on a shared machine (another job, a
 * CPU clocking down) lands on all of them alike. Returns the samples (ms) by command name.
 */
export async function timeInterleaved(commands, {warmup, runs}) {
  const samples = Object.fromEntries(commands.map(({name}) => [name, []]))
  for (let round = 0; round < warmup + runs; round++) {
    for (let i = 0; i < commands.length; i++) {
      const {name, argv, env} = commands[(round + i) % commands.length]
      const {ms} = await runCommand(argv, env)
      if (round >= warmup) samples[name].push(ms)
    }
  }

  return samples
}

/** Median, p90 and p99 (nearest rank) of a list of numbers. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  return {n: sorted.length, median: median(sorted), p90: rank(0.9), p99: rank(0.99), min: sorted[0], max: sorted.at(-1)}
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Polls until check() gives something truthy, or fails after timeoutMs saying what it waited for. */
export async function waitFor(what, check, {timeoutMs = 30_000, everyMs = 10} = {}) {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const value = await check()
    if (value) return value
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }

  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
