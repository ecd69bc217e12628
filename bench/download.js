// One download, in a process of its own: GETs the URL (with the given Host), reads the body to its
// end without keeping it, and prints {"bytes": N, "ms": T}.
import {request} from 'node:http'
import {performance} from 'node:perf_hooks'

const [url, host] = process.argv.slice(2)
const started = performance.now()
request(url, {headers: host ? {host} : {}, agent: false}, (response) => {
  if (response.statusCode !== 200) {
    console.error(`GET ${url}: HTTP ${response.statusCode}`)
    process.exit(1)
  }

  let bytes = 0
  response.on('data', (chunk) => (bytes += chunk.length))
  response.on('end', () => console.log(JSON.stringify({bytes, ms: performance.now() - started})))
})
  .on('error', (error) => {
    console.error(`GET ${url}: ${error.message}`)
    process.exit(1)
  })
  .end()
