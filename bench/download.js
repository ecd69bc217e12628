// Downloads one URL to nowhere, in a process of its own, and prints {"bytes": N, "ms": T} (first byte
// asked for to last byte read). argv: the URL, then its request headers as JSON.
import {request} from 'node:http'
import {performance} from 'node:perf_hooks'

const [url, headers] = process.argv.slice(2)
const started = performance.now()
request(url, {headers: JSON.parse(headers)}, (response) => {
  let bytes = 0
  response.on('data', (chunk) => (bytes += chunk.length))
  // Cut short, the body ends in 'close' without 'end'.
  response.on('close', () => {
    if (response.complete) return
    console.error(`the body from ${url} was cut short after ${bytes} bytes`)
    process.exit(1)
  })
  response.on('end', () => {
    const ms = performance.now() - started
    if (response.statusCode !== 200) {
      console.error(`HTTP ${response.statusCode} from ${url}`)
      process.exit(1)
    }

    console.log(JSON.stringify({bytes, ms}))
  })
})
  .on('error', (error) => {
    console.error(error.message)
    process.exit(1)
  })
  .end()
