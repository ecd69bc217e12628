import type {ServerResponse} from 'node:http'
import {badInput, TunnelctlError} from '../errors.js'
import {parseEndpointId, parseStartEndpointRequest, parseUpdateEndpointRequest} from '../protocol/endpoints.js'
import {type ListEventsResponse, parseEventsQuery} from '../protocol/events.js'
import type {InspectorReply} from '../protocol/inspector.js'
import type {ShutdownResponse, SupervisorStatus} from '../protocol/supervisor.js'
import {type ListTunnelsResponse, parseStartTunnelRequest, type StopAllTunnelsResponse, type StopTunnelResponse} from '../protocol/tunnels.js'
import {parsePortArgument} from '../ports.js'
import type {Route, RouteRequest} from './control-server.js'
import type {EventLog} from './event-log.js'
import type {ExposeRegistry} from './expose-registry.js'
import type {InspectorServer} from './inspect/inspector-server.js'
import type {TunnelRegistry} from './tunnel-registry.js'

export interface RouteTargets {
  status(): SupervisorStatus
  shutdown(reason: string): Promise<ShutdownResponse>
  tunnels: TunnelRegistry
  exposes: ExposeRegistry
  events: EventLog
  inspector: Pick<InspectorServer, 'open'>
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
      handle: async ({body, response}) => ({
        status: 201,
        body: await target.tunnels.start(parseStartTunnelRequest(body), clientGone(response, 'tunnel')),
      }),
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
