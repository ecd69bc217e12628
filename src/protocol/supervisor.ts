/** The supervisor's own part of the control protocol: /v1/status and /v1/shutdown. */
import {type EndpointInfo, parseEndpointList} from './endpoints.js'
import {parseTunnelList, type TunnelInfo} from './tunnels.js'
import {expectReply, malformedReply} from './wire.js'

/** What a supervisor stopped on its way out: its tunnels, and its endpoints, which stay saved for the next one. */
export interface ShutdownResponse {
  stopped: TunnelInfo[]
  endpoints: EndpointInfo[]
}

export interface SupervisorStatus {
  version: string
  pid: number
  startedAt: string
  socket: string
  configDir: string
  tunnels: number
  /** Absent from supervisors older than the expose topic, which must still be recognised to be replaced. */
  endpoints?: number
  /** The reverse proxy every endpoint is published through, on 127.0.0.1. */
  proxyPort?: number
}

export function parseSupervisorStatus(body: unknown): SupervisorStatus {
  const object = expectReply(body)
  const {version, pid, startedAt, socket, configDir, tunnels, endpoints, proxyPort} = object
  if (
    typeof version !== 'string' ||
    typeof pid !== 'number' ||
    typeof startedAt !== 'string' ||
    typeof socket !== 'string' ||
    typeof configDir !== 'string' ||
    typeof tunnels !== 'number' ||
    (endpoints !== undefined && typeof endpoints !== 'number') ||
    (proxyPort !== undefined && typeof proxyPort !== 'number')
  ) {
    throw malformedReply('status')
  }

  return {version, pid, startedAt, socket, configDir, tunnels, endpoints, proxyPort}
}

export function parseShutdownResponse(body: unknown): ShutdownResponse {
  const {stopped, endpoints} = expectReply(body)
  // A supervisor older than the expose topic names no endpoints.
  return {stopped: parseTunnelList(stopped), endpoints: endpoints === undefined ? [] : parseEndpointList(endpoints)}
}
