// Item 5: one WebSocket message's round trip (sent, echoed by the origin, received), sequential,
// on a connection straight to the origin and on one through the proxy, in alternating blocks.
import {once} from 'node:events'
import {performance} from 'node:perf_hooks'
import WebSocket from 'ws'
import {summarize} from './harness.js'
import {exposeLocal} from './local-endpoint.js'

const WARMUP = 200
const ROUND_TRIPS = 2000
const BLOCK = 100
const MESSAGE = 'x'.repeat(64)

export async function measureWebSocket(home, originPort) {
  const endpoint = await exposeLocal(home, originPort)
  const direct = await connect(`ws://127.0.0.1:${originPort}/`, {})
  const proxied = await connect(`ws://127.0.0.1:${endpoint.proxyPort}/`, endpoint.headers)
  try {
    await roundTrips(direct, WARMUP)
    await roundTrips(proxied, WARMUP)
    const samples = {direct: [], proxied: []}
    for (let done = 0; done < ROUND_TRIPS; done += BLOCK) {
      samples.direct.push(...(await roundTrips(direct, BLOCK)))
      samples.proxied.push(...(await roundTrips(proxied, BLOCK)))
    }

    const directStats = summarize(samples.direct)
    return [
      {metric: 'WebSocket: echo round trip, direct', unit: 'ms', stats: directStats, note: `${ROUND_TRIPS} sequential ${MESSAGE.length}-byte messages`},
      {metric: 'WebSocket: echo round trip, through the proxy', unit: 'ms', stats: summarize(samples.proxied), baseline: {label: 'direct', stats: directStats}},
    ]
  } finally {
    direct.terminate()
    proxied.terminate()
    await endpoint.stop()
  }
}

async function connect(url, headers) {
  const socket = new WebSocket(url, {headers, perMessageDeflate: false})
  await once(socket, 'open')
  return socket
}

async function roundTrips(socket, count) {
  const times = []
  for (let i = 0; i < count; i++) {
    const sent = performance.now()
    const echoed = once(socket, 'message')
    socket.send(MESSAGE)
    await echoed
    times.push(performance.now() - sent)
  }

  return times
}
