// The origin the proxy benchmarks load: a small HTTP answer on every path, bodies of set sizes on
// the paths below, and a WebSocket echo, in a process of its own so that it shares an event loop with
// neither the proxy nor the load generator. Prints {"port": N} once it listens on 127.0.0.1.
import {createServer} from 'node:http'
import {WebSocketServer} from 'ws'

const BODY = 'hello from the bench origin\n'
const CHUNK = Buffer.alloc(64 * 1024, 'x')
/** Bodies by path: the proxy rows' small and large answers, and the download. */
const SIZED = {'/12b': 12, '/64k': 64 * 1024, '/1g': 2 ** 30}

const server = createServer((request, response) => {
  request.resume()
  const size = SIZED[request.url]
  if (size === undefined) {
    response.writeHead(200, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY)})
    response.end(BODY)
    return
  }

  response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': size})
  if (size <= CHUNK.length) {
    response.end(CHUNK.subarray(0, size))
    return
  }

  // Written as fast as the reader takes it, and no faster.
  let left = size
  const more = () => {
    while (left > 0) {
      const chunk = CHUNK.subarray(0, Math.min(left, CHUNK.length))
      left -= chunk.length
      if (left === 0) response.end(chunk)
      else if (!response.write(chunk)) return response.once('drain', more)
    }
  }

  response.once('close', () => (left = 0))
  more()
})
new WebSocketServer({server}).on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, {binary: isBinary}))
})
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({port: server.address().port})))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
