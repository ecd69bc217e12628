import {request as httpRequest} from 'node:http'
import {Duplex} from 'node:stream'
import {TunnelctlError} from '../../errors.js'
import type {ReplaySend} from '../inspect/request-log.js'
import type {Recording} from '../inspect/recording.js'
import {endToEnd} from './forwarding.js'
import type {Entrance} from './reverse-proxy.js'

/** Framing the replay sets itself, for the body it sends. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'expect'])

/**
 * Sends a recorded request again through the proxy, over an in-memory connection handed to it as
 * `accept` would a socket: it takes the route of its source (the Host it names may be gone), is
 * recorded anew with replayOf, and asks no password, since only the supervisor's owner can ask for
 * it. Resolves with the new request's id once its response is over.
 */
export function replayThrough(accept: (connection: Duplex, entrance: Entrance) => void, send: ReplaySend): Promise<string> {
  return new Promise((resolve, reject) => {
    const [client, server] = connectionPair()
    let recording: Recording | undefined
    const done = new Promise<void>((settled) => {
      accept(server, {replay: {of: send.replayOf, source: send.source, recorded: (started) => (recording = started).onComplete(settled)}})
    })

    const body = send.body ?? Buffer.alloc(0)
    const headers = endToEnd(send.headerLines).filter((_, index, lines) => !FRAMING.has(lines[index - (index % 2)].toLowerCase()))
    if (body.length > 0 || ['POST', 'PUT', 'PATCH'].includes(send.method)) headers.push('content-length', String(body.length))
    headers.push('connection', 'close')
    const request = httpRequest({createConnection: () => client, method: send.method, path: send.path, headers, setHost: false})
    request.on('error', (error) => reject(new TunnelctlError('TUNNEL_FAILED', `The replay of ${send.replayOf} failed: ${error.message}.`)))
    request.on('response', (response) => {
      response.resume()
      response.once('end', () => {
        if (!recording) {
          client.destroy()
          return reject(new TunnelctlError('NOT_FOUND', `Request ${send.replayOf} cannot be replayed: its ${send.source.kind === 'tunnel' ? `tunnel on port ${send.source.port}` : `endpoint ${send.source.id}`} is gone.`))
        }

        void done.then(() => {
          client.destroy()
          resolve(recording!.id)
        })
      })
    })
    request.end(body)
  })
}

/** Two ends of an in-memory connection: what one writes, the other reads; destroying one ends both. */
function connectionPair(): [Duplex, Duplex] {
  const end = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk)
        callback()
      },
      final(callback) {
        peer().push(null)
        callback()
      },
      destroy(error, callback) {
        peer().destroy()
        callback(error)
      },
    })
  const a: Duplex = end(() => b)
  const b: Duplex = end(() => a)
  return [a, b]
}
