// Runs bench/origin.js as a child and hands back its port.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

const ORIGIN = fileURLToPath(new URL('origin.js', import.meta.url))

/** Resolves with {port, stop} once the origin listens. */
export async function startOrigin() {
  const child = spawn(process.execPath, [ORIGIN], {stdio: ['ignore', 'pipe', 'inherit']})
  const exited = once(child, 'exit')
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await exited
  }

  const [line] = await Promise.race([
    once(createInterface({input: child.stdout}), 'line'),
    exited.then(([code]) => Promise.reject(new Error(`the origin exited with ${code} before it listened`))),
  ])
  return {port: JSON.parse(line).port, stop}
}
