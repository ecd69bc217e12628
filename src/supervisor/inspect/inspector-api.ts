import type {IncomingMessage, ServerResponse} from 'node:http'
import {badInput, TunnelctlError} from '../../errors.js'
import {parseReplayRequest, parseRequestId, type RecordedRequest} from '../../protocol/requests.js'
import {readJsonBody, reply} from '../control-server.js'
import type {RequestLog} from './request-log.js'

export type InspectedTraffic = Pick<RequestLog, 'list' | 'get' | 'subscribe' | 'replay'>

/** What the page needs to name each entry's tunnel or endpoint, and to build a curl for its target. */
export interface InspectorSources {
  tunnels: Array<{port: number; url: string | null}>
  endpoints: Array<{id: string; name: string | null; url: string | null; target: string | null}>
}

/** Told when a live list opens and closes. */
export interface StreamWatch {
  opened(): void
  closed(): void
}

/** An edited body arrives as base64 in JSON: 16 MiB of it is more than anyone types into a text box. */
const MAX_REPLAY_JSON_BYTES = 16 * 1024 * 1024
/** A live list whose browser has stopped reading is cut off past this; it reconnects and starts afresh. */
const MAX_STREAM_BACKLOG_BYTES = 4 * 1024 * 1024
/**
 * The newest requests a page starts with. With many endpoints the log may hold tens of thousands: sent
 * whole, they would be more than a page lists quickly, and more than the backlog above lets wait.
 */
const FIRST_SHOWN = 2000

/** The page's API under /api/, behind the guard; every answer is JSON (or an event stream), never cached. */
export function inspectorApi(traffic: InspectedTraffic, sources: () => InspectorSources) {
  async function route(request: IncomingMessage, response: ServerResponse, url: URL, watch: StreamWatch): Promise<unknown> {
    const {pathname} = url
    const one = /^\/api\/requests\/([^/]+)$/.exec(pathname)
    const replay = /^\/api\/requests\/([^/]+)\/replay$/.exec(pathname)
    if (request.method === 'GET' && pathname === '/api/sources') return sources()
    if (request.method === 'GET' && pathname === '/api/requests') return {requests: traffic.list({limit: FIRST_SHOWN})}
    if (request.method === 'GET' && one) return {request: found(traffic.get(parseRequestId(one[1])), one[1])}
    if (request.method === 'GET' && pathname === '/api/stream') return stream(request, response, watch)
    if (request.method === 'POST' && replay) {
      const id = parseRequestId(replay[1])
      const {body} = parseReplayRequest(await readJson(request))
      return {request: await traffic.replay(id, body === undefined ? undefined : Buffer.from(body, 'base64'))}
    }

    throw new TunnelctlError('NOT_FOUND', `No such API: ${request.method} ${pathname}.`)
  }

  /** The newest entries kept, then each new one as it completes (summaries: bodies null), as server-sent events, until the page goes. */
  function stream(request: IncomingMessage, response: ServerResponse, watch: StreamWatch): 'streamed' {
    response.writeHead(200, {'content-type': 'text/event-stream'})
    response.write(`event: snapshot\ndata: ${JSON.stringify({requests: traffic.list({limit: FIRST_SHOWN})})}\n\n`)
    watch.opened()
    const unsubscribe = traffic.subscribe((entry) => {
      if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) response.destroy()
      else response.write(`event: request\ndata: ${JSON.stringify(entry)}\n\n`)
    })
    request.socket.once('close', () => {
      unsubscribe()
      watch.closed()
    })
    return 'streamed'
  }

  return {
    async handle(request: IncomingMessage, response: ServerResponse, url: URL, watch: StreamWatch): Promise<void> {
      try {
        const body = await route(request, response, url, watch)
        if (body !== 'streamed') reply(response, 200, body)
      } catch (error) {
        request.resume()
        if (response.headersSent) {
          response.destroy()
          return
        }

        if (error instanceof TunnelctlError) reply(response, error.httpStatus, {error: {code: error.code, message: error.message}})
        else {
          console.error('inspector request failed:', error)
          reply(response, 500, {error: {code: 'INTERNAL', message: `Internal error: ${(error as Error).message}. See \`tunnelctl supervisor logs\`.`}})
        }
      }
    },
  }
}

function found(entry: RecordedRequest | undefined, id: string): RecordedRequest {
  if (!entry) throw new TunnelctlError('NOT_FOUND', `No request ${id} is kept: it is older than the ones kept, or the supervisor has restarted since.`)
  return entry
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    request.resume()
    throw badInput('A replay is asked for with a JSON body (Content-Type: application/json).')
  }

  return readJsonBody(request, MAX_REPLAY_JSON_BYTES)
}
