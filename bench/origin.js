// The origin the proxy benchmarks load: a small HTTP answer on every path and a WebSocket echo, in a
// process of its own so that it shares an event loop with neither the proxy nor the load generator.
// Prints {"port": N} once it listens on 127.0.0.1.
import {createServer} from 'node:http'
import {WebSocketServer} from 'ws'

const BODY = 'hello from the bench origin\n'

const server = createServer((request, response) => {
  request.resume()
  response.writeHead(200, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY)})
  response.end(BODY)
})
new WebSocketServer({server}).on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, {binary: isBinary}))
})
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({port: server.address().port})))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
