import {TunnelctlError} from '../errors.js'
import {
  type EndpointInfo,
  type EndpointReply,
  parseEndpointInfo,
  parseEndpointList,
  parseEndpointReply,
  parseStartEndpointReply,
  type StartEndpointReply,
  type StartEndpointRequest,
  type UpdateEndpointRequest,
} from '../expose-protocol.js'
import {
  isObject,
  parseErrorBody,
  parseEvent,
  parseStartTunnelResponse,
  parseSupervisorStatus,
  parseTunnelInfo,
  parseTunnelList,
  type ShutdownResponse,
  type StartTunnelRequest,
  type StartTunnelResponse,
  type SupervisorEvent,
  type SupervisorStatus,
  type TunnelInfo,
} from '../protocol.js'
import {type JsonReply, requestJson, requestLines} from './socket-request.js'

/** The typed client of the control API; src/supervisor/routes.ts is its mirror. */
export class SupervisorClient {
  constructor(readonly socket: string) {}

  async status(): Promise<SupervisorStatus> {
    return parseSupervisorStatus(await this.call('GET', '/v1/status'))
  }

  /** Stops every tunnel and endpoint and then the supervisor; resolves with what was stopped. */
  async shutdown(): Promise<ShutdownResponse> {
    const body = await this.call('POST', '/v1/shutdown')
    // A supervisor older than the expose topic names no endpoints.
    const endpoints = isObject(body) && body.endpoints !== undefined ? parseEndpointList(body.endpoints) : []
    return {stopped: parseTunnelList(field(body, 'stopped')), endpoints}
  }

  async listTunnels(): Promise<TunnelInfo[]> {
    return parseTunnelList(field(await this.call('GET', '/v1/tunnels'), 'tunnels'))
  }

  async startTunnel(request: StartTunnelRequest): Promise<StartTunnelResponse> {
    return parseStartTunnelResponse(await this.call('POST', '/v1/tunnels', request))
  }

  async stopTunnel(port: number): Promise<TunnelInfo> {
    return parseTunnelInfo(field(await this.call('DELETE', `/v1/tunnels/${port}`), 'tunnel'))
  }

  async stopAllTunnels(): Promise<TunnelInfo[]> {
    return parseTunnelList(field(await this.call('DELETE', '/v1/tunnels'), 'stopped'))
  }

  async listEndpoints(): Promise<EndpointInfo[]> {
    return parseEndpointList(field(await this.call('GET', '/v1/endpoints'), 'endpoints'))
  }

  async startEndpoint(request: StartEndpointRequest): Promise<StartEndpointReply> {
    return parseStartEndpointReply(await this.call('POST', '/v1/endpoints', request))
  }

  async updateEndpoint(id: string, request: UpdateEndpointRequest): Promise<EndpointReply> {
    return parseEndpointReply(await this.call('PATCH', `/v1/endpoints/${encodeURIComponent(id)}`, request))
  }

  async stopEndpoint(id: string): Promise<EndpointInfo> {
    return parseEndpointInfo(field(await this.call('DELETE', `/v1/endpoints/${encodeURIComponent(id)}`), 'endpoint'))
  }

  async stopAllEndpoints(): Promise<EndpointInfo[]> {
    return parseEndpointList(field(await this.call('DELETE', '/v1/endpoints'), 'stopped'))
  }

  async listEvents(): Promise<SupervisorEvent[]> {
    const events = field(await this.call('GET', '/v1/events'), 'events')
    if (!Array.isArray(events)) throw new TunnelctlError('SUPERVISOR_UNAVAILABLE', 'The supervisor sent a malformed events reply.')
    return events.map((event) => parseEvent(event))
  }

  /** Recent events, then each new one as it happens, until the supervisor stops. */
  async followEvents(onEvent: (event: SupervisorEvent) => void): Promise<void> {
    await requestLines(this.socket, '/v1/events?follow=1', (line) => onEvent(parseEvent(JSON.parse(line))))
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    return unwrap(await requestJson(this.socket, method, path, body))
  }
}

function unwrap(reply: JsonReply): unknown {
  if (reply.status >= 200 && reply.status < 300) return reply.body
  throw (
    parseErrorBody(reply.body) ??
    new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor answered with HTTP ${reply.status} and no usable error.`)
  )
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
}
