import {connectSupervisor} from '../client/connect.js'
import type {EndpointInfo} from '../expose-protocol.js'
import type {TunnelInfo} from '../protocol.js'

/** What a listing command prints: the value with --json, the text for people. */
export interface Listing<T> {
  value: T
  text: string
}

// The renderers are imported only when there is something to render: an empty list needs none.

export async function tunnelListing(): Promise<Listing<TunnelInfo[]>> {
  const tunnels = await (await connectSupervisor()).listTunnels()
  if (tunnels.length === 0) return {value: tunnels, text: 'No active tunnels.'}
  const [{renderTable}, {uptimeSince}] = await Promise.all([import('../render/table.js'), import('../render/uptime.js')])
  const now = new Date()
  const rows = tunnels.map((t) => [String(t.port), t.url ?? '-', t.status, uptimeSince(t.startedAt, now)])
  return {value: tunnels, text: renderTable(['PORT', 'URL', 'STATUS', 'UPTIME'], rows)}
}

export async function endpointListing(): Promise<Listing<EndpointInfo[]>> {
  const endpoints = await (await connectSupervisor()).listEndpoints()
  if (endpoints.length === 0) return {value: endpoints, text: 'No endpoints. Publish one with `tunnelctl expose start <port>`.'}
  const {renderEndpoints} = await import('../render/endpoint.js')
  return {value: endpoints, text: renderEndpoints(endpoints)}
}
