import {readRunningSupervisor} from '../client/running-supervisor.js'
import {field} from '../client/supervisor-reply.js'
import type {EndpointInfo} from '../protocol/endpoints.js'
import {resolvePaths} from '../paths.js'
import {parseTunnelList, type TunnelInfo} from '../protocol/tunnels.js'

/** What a listing command prints: the value with --json, the text for people. */
export interface Listing<T> {
  value: T
  text: string
}

// The renderers are imported only when there is something to render: an empty list needs none.
// Listing never starts a supervisor: with none running there are no tunnels, and the endpoints are
// read from their files.

export async function tunnelListing(): Promise<Listing<TunnelInfo[]>> {
  const reply = await readRunningSupervisor(resolvePaths(), '/v1/tunnels')
  if (!reply) return {value: [], text: 'No tunnels are running: the supervisor is not running.'}
  const tunnels = parseTunnelList(field(reply.body, 'tunnels'))
  if (tunnels.length === 0) return {value: tunnels, text: 'No active tunnels.'}
  const [{renderTable}, {uptimeSince}] = await Promise.all([import('../render/table.js'), import('../render/uptime.js')])
  const now = new Date()
  // A tunnel is named by its port whatever its scheme; an https one says so, an http one looks as ever.
  const rows = tunnels.map((t) => [
    t.scheme === 'https' ? `${t.port} (https)` : String(t.port),
    t.url ?? '-',
    t.direct ? 'direct' : 'proxy',
    t.auth ? 'yes' : 'no',
    t.status,
    uptimeSince(t.startedAt, now),
  ])
  return {value: tunnels, text: renderTable(['PORT', 'URL', 'VIA', 'AUTH', 'STATUS', 'UPTIME'], rows)}
}

export async function endpointListing(): Promise<Listing<EndpointInfo[]>> {
  const paths = resolvePaths()
  const reply = await readRunningSupervisor(paths, '/v1/endpoints')
  const endpoints = reply
    ? (await import('../protocol/endpoints.js')).parseEndpointList(field(reply.body, 'endpoints'))
    : await (await import('../saved-endpoints.js')).listSavedEndpoints(paths.endpointsDir)
  if (endpoints.length === 0) return {value: endpoints, text: 'No endpoints. Publish one with `tunnelctl expose start <port>`.'}
  const {renderEndpoints} = await import('../render/endpoint.js')
  const text = renderEndpoints(endpoints)
  if (reply) return {value: endpoints, text}
  return {value: endpoints, text: `${text}\n\nThe supervisor is not running, so these endpoints are saved but not published. \`tunnelctl supervisor start\` brings them back.`}
}
