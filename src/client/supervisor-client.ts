import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
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
} from '../protocol/endpoints.js'
import {parseEvent, parseEventList, type SupervisorEvent} from '../protocol/events.js'
import {type InspectorReply, parseInspectorReply} from '../protocol/inspector.js'
import {parseRecordedRequest, parseRecordedRequestList, type RecordedRequest, type RequestSource} from '../protocol/requests.js'
import {MAX_START_TIMEOUT_MS} from '../protocol/start-options.js'
import {parseShutdownResponse, parseSupervisorStatus, type ShutdownResponse, type SupervisorStatus} from '../protocol/supervisor.js'
import {
  parseStartTunnelResponse,
  parseTunnelInfo,
  parseTunnelList,
  type StartTunnelRequest,
  type StartTunnelResponse,
  type TunnelInfo,
} from '../protocol/tunnels.js'
import {malformedReply} from '../protocol/wire.js'
import {type JsonReply, requestJson, requestLines, type StreamOptions} from './socket-request.js'
import {ANSWER_MS, explainNoReply, field, unwrap} from './supervisor-reply.js'

// How long each request may take before the supervisor counts as not answering (a question: ANSWER_MS).
// A change may stop processes, each with its grace period, or wait on a provider's own command line;
// a start waits for the URL, as long as it was told to.
const CHANGE_MS = 60_000
const ENDPOINT_START_MS = 90_000
const START_MARGIN_MS = 15_000

/** A tunnel held by its start's connection, as the supervisor started it. */
export interface HeldTunnel extends StartTunnelResponse {
  /**
   * Settles when the hold ends: after the event that ended the tunnel (crashed, stopped), when the
   * supervisor went away, or after release().
   */
  ended: Promise<void>
  /** Stops the tunnel, if the hold has not ended, and closes the connection. */
  release(): Promise<void>
}

function startDeadlineMs(request: StartTunnelRequest): number {
  return (request.timeoutMs ?? MAX_START_TIMEOUT_MS) + START_MARGIN_MS
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof TunnelctlError && error.code === 'NOT_FOUND')) throw error
}

/** The typed client of the control API; src/supervisor/routes.ts is its mirror. Every request has a deadline. */
export class SupervisorClient {
  constructor(private readonly paths: Paths) {}

  async status(): Promise<SupervisorStatus> {
    return parseSupervisorStatus(await this.call('GET', '/v1/status', ANSWER_MS))
  }

  /** Stops every tunnel and endpoint and then the supervisor; resolves with what was stopped. */
  async shutdown(): Promise<ShutdownResponse> {
    return parseShutdownResponse(await this.call('POST', '/v1/shutdown', CHANGE_MS))
  }

  async listTunnels(): Promise<TunnelInfo[]> {
    return parseTunnelList(field(await this.call('GET', '/v1/tunnels', ANSWER_MS), 'tunnels'))
  }

  async startTunnel(request: StartTunnelRequest): Promise<StartTunnelResponse> {
    return parseStartTunnelResponse(await this.call('POST', '/v1/tunnels', startDeadlineMs(request), request))
  }

  /**
   * Starts a tunnel that this connection holds (`tunnel run`): the supervisor stops it when the
   * connection closes, whatever ends this process. `onEvent` gets what happens to it after it started.
   */
  async holdTunnel(request: Omit<StartTunnelRequest, 'held'>, onEvent: (event: SupervisorEvent) => void): Promise<HeldTunnel> {
    const connection = new AbortController()
    let reply: ((response: StartTunnelResponse) => void) | undefined
    const started = new Promise<StartTunnelResponse>((resolve) => (reply = resolve))
    const streamed = this.stream(
      '/v1/tunnels',
      startDeadlineMs(request),
      (value) => {
        if (!reply) return onEvent(parseEvent(value))
        reply(parseStartTunnelResponse(value))
        reply = undefined
      },
      {method: 'POST', body: {...request, held: true}, signal: connection.signal},
    )
    const response = await Promise.race([
      started,
      streamed.then(() => {
        throw malformedReply('start', 'the stream ended before the tunnel')
      }),
    ])
    let ended = false
    const end = streamed.finally(() => (ended = true))
    return {
      ...response,
      ended: end,
      release: async () => {
        // Stopped here rather than by closing the connection, so that it is gone when this resolves;
        // a hold that has ended has no tunnel left, and the port may be someone else's by now.
        if (!ended) await this.stopTunnel(response.tunnel.port).catch((error) => ignoreNotFound(error))
        connection.abort()
        await end.catch(() => {})
      },
    }
  }

  async stopTunnel(port: number): Promise<TunnelInfo> {
    return parseTunnelInfo(field(await this.call('DELETE', `/v1/tunnels/${port}`, CHANGE_MS), 'tunnel'))
  }

  async stopAllTunnels(): Promise<TunnelInfo[]> {
    return parseTunnelList(field(await this.call('DELETE', '/v1/tunnels', CHANGE_MS), 'stopped'))
  }

  async listEndpoints(): Promise<EndpointInfo[]> {
    return parseEndpointList(field(await this.call('GET', '/v1/endpoints', ANSWER_MS), 'endpoints'))
  }

  async startEndpoint(request: StartEndpointRequest): Promise<StartEndpointReply> {
    // A provider may take its --timeout for the URL, and a while more for its own calls (tailscale serve).
    const deadlineMs = Math.max(ENDPOINT_START_MS, (request.timeoutMs ?? 0) + START_MARGIN_MS)
    return parseStartEndpointReply(await this.call('POST', '/v1/endpoints', deadlineMs, request))
  }

  async updateEndpoint(id: string, request: UpdateEndpointRequest): Promise<EndpointReply> {
    return parseEndpointReply(await this.call('PATCH', `/v1/endpoints/${encodeURIComponent(id)}`, CHANGE_MS, request))
  }

  async stopEndpoint(id: string): Promise<EndpointInfo> {
    return parseEndpointInfo(field(await this.call('DELETE', `/v1/endpoints/${encodeURIComponent(id)}`, CHANGE_MS), 'endpoint'))
  }

  async stopAllEndpoints(): Promise<EndpointInfo[]> {
    return parseEndpointList(field(await this.call('DELETE', '/v1/endpoints', CHANGE_MS), 'stopped'))
  }

  async listEvents(): Promise<SupervisorEvent[]> {
    return parseEventList(field(await this.call('GET', '/v1/events', ANSWER_MS), 'events'))
  }

  /** Recent events, then each new one as it happens, until the supervisor stops. */
  async followEvents(onEvent: (event: SupervisorEvent) => void): Promise<void> {
    await this.stream('/v1/events?follow=1', ANSWER_MS, (value) => onEvent(parseEvent(value)))
  }

  private async stream(path: string, deadlineMs: number, onLine: (value: unknown) => void, options?: StreamOptions): Promise<void> {
    let reply: JsonReply
    try {
      reply = await requestLines(this.paths.socket, path, deadlineMs, onLine, options)
    } catch (error) {
      throw explainNoReply(error, this.paths)
    }

    unwrap(reply)
  }

  /** The web inspector's URL, with its token; the supervisor starts the inspector when first asked. */
  async openInspector(): Promise<InspectorReply> {
    return parseInspectorReply(await this.call('POST', '/v1/inspector', ANSWER_MS))
  }

  /** The recorded requests of `source`, oldest first: the newest `limit` of them. */
  async listRequests(source: RequestSource, limit: number): Promise<RecordedRequest[]> {
    return parseRecordedRequestList(field(await this.call('GET', `/v1/requests?${requestsQuery(source, limit)}`, ANSWER_MS), 'requests'))
  }

  /** The newest `limit` complete requests of `source`, then each new one as it completes, until the supervisor stops. */
  async followRequests(source: RequestSource, limit: number, onRequest: (request: RecordedRequest) => void, signal?: AbortSignal): Promise<void> {
    await this.stream(`/v1/requests?follow=1&${requestsQuery(source, limit)}`, ANSWER_MS, (value) => onRequest(parseRecordedRequest(value)), {signal})
  }

  /** One recorded request, with its bodies. */
  async getRequest(id: string): Promise<RecordedRequest> {
    return parseRecordedRequest(field(await this.call('GET', `/v1/requests/${encodeURIComponent(id)}`, ANSWER_MS), 'request'))
  }

  /** Sends a recorded request again (with `body` instead of its own, when given); resolves with the new request once it is complete. */
  async replayRequest(id: string, body?: Buffer): Promise<RecordedRequest> {
    const request = body === undefined ? {} : {body: body.toString('base64')}
    return parseRecordedRequest(field(await this.call('POST', `/v1/requests/${encodeURIComponent(id)}/replay`, CHANGE_MS, request), 'request'))
  }

  private async call(method: string, path: string, deadlineMs: number, body?: unknown): Promise<unknown> {
    let reply: JsonReply
    try {
      reply = await requestJson(this.paths.socket, method, path, deadlineMs, body)
    } catch (error) {
      throw explainNoReply(error, this.paths)
    }

    return unwrap(reply)
  }
}

function requestsQuery(source: RequestSource, limit: number): string {
  const query = new URLSearchParams(source.kind === 'tunnel' ? {tunnel: String(source.port)} : {endpoint: source.id})
  query.set('limit', String(limit))
  return query.toString()
}
