// One WebSocket message's round trip (sent, echoed by the origin, received), sequential, on a
// connection straight to the origin, on one through tunnelctl's proxy and on one through each peer,
// in alternating blocks.
import {once} from 'node:events'
import {performance} from 'node:perf_hooks'
import WebSocket from 'ws'
import {median, summarize} from './harness.js'
import {exposeLocal} from './local-endpoint.js'
import {comparisonRows, measured, variants} from './proxy-load.js'

const WARMUP = 200
const ROUND_TRIPS = 2000
const BLOCK = 100
const MESSAGE = 'x'.repeat(64)

export async function measureWebSocket(home, originPort, peers) {
  const endpoint = await exposeLocal(home, originPort)
  const ways = variants(home, originPort, endpoint, peers)
  const sockets = []
  try {
    for (const way of ways) sockets.push(await connect(`ws://127.0.0.1:${way.port}/`, way.headers))
    for (const socket of sockets) await roundTrips(socket, WARMUP)
    const samples = ways.map(() => [])
    const cpuUs = ways.map(() => 0)
    for (let done = 0; done < ROUND_TRIPS; done += BLOCK) {
      for (const [index, way] of ways.entries()) {
        const {times, cpuUs: spent} = await measured(way, async () => ({times: await roundTrips(sockets[index], BLOCK)}))
        samples[index].push(...times)
        cpuUs[index] += spent ?? Number.NaN
      }
    }

    // Round trips per second, so that a ratio to direct reads as the other rows' do: higher is better.
    const stats = (index) => ({...summarize(samples[index]), roundTripsPerSecond: 1000 / median(samples[index])})
    const row = 'WebSocket echo round trip'
    const measure = (name) => {
      const index = ways.findIndex((way) => way.name === name)
      return {stats: stats(index), ratio: median(samples[0]) / median(samples[index]), cpuUs: cpuUs[index] / ROUND_TRIPS}
    }

    return [
      {metric: `${row}: direct`, unit: 'ms', stats: stats(0), note: `${ROUND_TRIPS} sequential ${MESSAGE.length}-byte messages per way, in blocks of ${BLOCK}; ratios are direct's median over the proxy's`},
      ...comparisonRows(row, ways, 'ms', measure, stats(0)),
    ]
  } finally {
    for (const socket of sockets) socket.terminate()
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
