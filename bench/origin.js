// The origin the proxy benchmarks load: a small HTTP answer on every path and a WebSocket echo, in a
// process of its own so that it shares an event loop with neither the proxy nor the load generator.
// Prints {"port": N} once it listens on 127.0.0.1.
import {createServer} from 'node:http'
import {WebSocketServer} from 'ws'

const BODY = 'hello from the bench origin\n'
const MIB = Buffer.alloc(1024 * 1024, 'x')

const server = createServer((request, response) => {
  request.resume()
  // /download?bytes=N: N bytes, written a MiB at a time as the client takes them.
  const download = /^\/download\?bytes=(\d+)$/.exec(request.url)
  if (download) return sendBytes(response, Number(download[1]))
  response.writeHead(200, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY)})
  response.end(BODY)
})
new WebSocketServer({server}).on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, {binary: isBinary}))
})
function sendBytes(response, total) {
  response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': total})
  let left = total
  const write = () => {
    while (left > 0) {
      const chunk = left >= MIB.length ? MIB : MIB.subarray(0, left)
      left -= chunk.length
      if (!response.write(chunk)) return response.once('drain', write)
    }

    response.end()
  }
  write()
}

server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({port: server.address().port})))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
