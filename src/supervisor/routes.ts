import type {ServerResponse} from 'node:http'
import {badInput, TunnelctlError} from '../errors.js'
import {parseEndpointId, parseStartEndpointRequest, parseUpdateEndpointRequest} from '../protocol/endpoints.js'
import {type ListEventsResponse, parseEventsQuery} from '../protocol/events.js'
import type {InspectorReply} from '../protocol/inspector.js'
import type {ShutdownResponse, SupervisorStatus} from '../protocol/supervisor.js'
import {type ListRequestsResponse, parseReplayRequest, parseRequestId, parseRequestsQuery, type RequestResponse, type RequestSource, sameSource} from '../protocol/requests.js'
import {type ListTunnelsResponse, parseStartTunnelRequest, type StopAllTunnelsResponse, type StopTunnelResponse} from '../protocol/tunnels.js'
import {parsePortArgument} from '../ports.js'
import type {Route, RouteRequest} from './control-server.js'
import type {EventLog} from './event-log.js'
import type {ExposeRegistry} from './expose-registry.js'
import type {HeldTunnels} from './held-tunnels.js'
import type {InspectorServer} from './inspect/inspector-server.js'
import type {RequestLog} from './inspect/request-log.js'
import type {TunnelRegistry} from './tunnel-registry.js'

export interface RouteTargets {
  status(): SupervisorStatus
  shutdown(reason: string): Promise<ShutdownResponse>
  tunnels: TunnelRegistry
  held: HeldTunnels
  exposes: ExposeRegistry
  events: EventLog
  inspector: Pick<InspectorServer, 'open'>
  requests: RequestLog
}

/** The control API, one small handler a route; src/client/supervisor-client.ts is its mirror. */
export function controlRoutes(target: RouteTargets): Route[] {
  return [
    {method: 'GET', path: /^\/v1\/status$/, anyVersion: true, handle: () => ok(target.status())},
    {
      method: 'POST',
      path: /^\/v1\/shutdown$/,
      anyVersion: true,
      handle: async () => ok(await target.shutdown('stop requested')),
    },
    {method: 'GET', path: /^\/v1\/tunnels$/, handle: () => ok<ListTunnelsResponse>({tunnels: target.tunnels.list()})},
    {
      method: 'POST',
      path: /^\/v1\/tunnels$/,
      handle: async ({body, response}) => {
        const request = parseStartTunnelRequest(body)
        const cancel = clientGone(response, 'tunnel')
        if (request.held) return target.held.hold(request, response, cancel)
        return {status: 201, body: await target.tunnels.start(request, cancel)}
      },
    },
    {
      method: 'DELETE',
      path: /^\/v1\/tunnels$/,
      handle: async () => ok<StopAllTunnelsResponse>({stopped: await target.tunnels.stopAll()}),
    },
    {
      method: 'DELETE',
      path: /^\/v1\/tunnels\/([^/]+)$/,
      handle: async ({params}) => ok<StopTunnelResponse>({tunnel: await target.tunnels.stop(parsePortArgument(pathSegment(params[0])))}),
    },
    {method: 'GET', path: /^\/v1\/endpoints$/, handle: () => ok({endpoints: target.exposes.list()})},
    {
      method: 'POST',
      path: /^\/v1\/endpoints$/,
      handle: async ({body, response}) => ({
        status: 201,
        body: await target.exposes.start(parseStartEndpointRequest(body), clientGone(response, 'endpoint')),
      }),
    },
    {method: 'DELETE', path: /^\/v1\/endpoints$/, handle: async () => ok({stopped: await target.exposes.stopAll()})},
    {
      method: 'PATCH',
      path: /^\/v1\/endpoints\/([^/]+)$/,
      handle: async ({params, body}) => ok(await target.exposes.update(parseEndpointId(pathSegment(params[0])), parseUpdateEndpointRequest(body))),
    },
    {
      method: 'DELETE',
      path: /^\/v1\/endpoints\/([^/]+)$/,
      handle: async ({params}) => ok({endpoint: await target.exposes.stop(parseEndpointId(pathSegment(params[0])))}),
    },
    {method: 'GET', path: /^\/v1\/events$/, handle: (request) => listEvents(target.events, request)},
    {method: 'GET', path: /^\/v1\/requests$/, handle: (request) => listRequests(target, request)},
    {
      method: 'GET',
      path: /^\/v1\/requests\/([^/]+)$/,
      handle: ({params}) => ok<RequestResponse>({request: recordedRequest(target.requests, parseRequestId(pathSegment(params[0])))}),
    },
    {
      method: 'POST',
      path: /^\/v1\/requests\/([^/]+)\/replay$/,
      handle: async ({params, body}) => {
        const id = parseRequestId(pathSegment(params[0]))
        const replayBody = parseReplayRequest(body).body
        return ok<RequestResponse>({request: await target.requests.replay(id, replayBody === undefined ? undefined : Buffer.from(replayBody, 'base64'))})
      },
    },
    {method: 'POST', path: /^\/v1\/inspector$/, handle: async () => ok<InspectorReply>(await target.inspector.open())},
  ]
}

function pathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw badInput(`The path segment "${raw}" is not valid percent-encoding.`)
  }
}

/** Aborts when the client disconnects before its answer is written: nobody waits for the result any more. */
function clientGone(response: ServerResponse, what: 'tunnel' | 'endpoint'): AbortSignal {
  const controller = new AbortController()
  response.once('close', () => {
    if (!response.writableFinished) {
      controller.abort(new TunnelctlError('TUNNEL_FAILED', `The client went away before the ${what} was up; it was stopped.`))
    }
  })
  return controller.signal
}

function ok<T>(body: T): {status: number; body: T} {
  return {status: 200, body}
}

/** The recent events as one JSON document, or with follow=1 as NDJSON that goes on until the client leaves. */
function listEvents(events: EventLog, {query, request, response}: RouteRequest) {
  const {follow} = parseEventsQuery(query)
  if (!follow) return ok<ListEventsResponse>({events: events.list()})

  response.writeHead(200, {'content-type': 'application/x-ndjson'})
  for (const event of events.list()) response.write(`${JSON.stringify(event)}\n`)
  const unsubscribe = events.subscribe((event) => {
    response.write(`${JSON.stringify(event)}\n`)
    if (event.type === 'supervisor.stopped') response.end()
  })
  request.socket.once('close', unsubscribe)
  return 'streamed' as const
}

function recordedRequest(requests: RequestLog, id: string) {
  const found = requests.get(id)
  if (!found) throw new TunnelctlError('NOT_FOUND', `No recorded request ${id}: it may have been dropped (inspect.keep). See the recent ones with \`tunnelctl expose logs <id>\` or \`tunnelctl tunnel logs <port>\`.`)
  return found
}

/** A source that is not running has no requests to show, and a typo should not read as "none yet". */
function refuseUnknownSource({tunnels, exposes}: RouteTargets, source: RequestSource): void {
  if (source.kind === 'tunnel' && !tunnels.list().some((tunnel) => tunnel.port === source.port)) {
    throw new TunnelctlError('NOT_FOUND', `No tunnel on port ${source.port}. See the active ones with \`tunnelctl tunnel list\`.`)
  }

  if (source.kind === 'endpoint' && !exposes.list().some((endpoint) => endpoint.id === source.id)) {
    throw new TunnelctlError('NOT_FOUND', `No endpoint ${source.id}. See them all with \`tunnelctl expose list\`.`)
  }
}

/**
 * The recorded requests as one JSON document; with follow=1, as NDJSON: the newest `limit` of those
 * complete, then each as it completes, until the client leaves.
 */
function listRequests(target: RouteTargets, {query, request, response}: RouteRequest) {
  const {source, limit, follow} = parseRequestsQuery(query)
  if (source) refuseUnknownSource(target, source)
  if (!follow) return ok<ListRequestsResponse>({requests: target.requests.list({source, limit})})

  response.writeHead(200, {'content-type': 'application/x-ndjson'})
  const recent = limit === undefined ? [] : target.requests.list({source}).filter((entry) => entry.durationMs !== null).slice(-limit)
  for (const entry of recent) response.write(`${JSON.stringify(entry)}\n`)
  const unsubscribe = target.requests.subscribe((entry) => {
    if (!source || sameSource(entry.source, source)) response.write(`${JSON.stringify(entry)}\n`)
  })
  request.socket.once('close', unsubscribe)
  return 'streamed' as const
}
