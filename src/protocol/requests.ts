/** The recorded requests part of the control protocol (/v1/requests): what the proxy saw, for logs, replay and the inspector. */
import {badInput} from '../errors.js'
import {isValidPort} from '../ports.js'
import {expectObject, expectReply, isObject, malformedReply} from './wire.js'

/** Whose traffic a request was: a quick tunnel's (by its port) or an expose endpoint's (by its id). */
export type RequestSource = {kind: 'tunnel'; port: number} | {kind: 'endpoint'; id: string}

export type RequestProtocol = 'http' | 'websocket' | 'sse'

/** The first bytes of a body, as far as they were kept. */
export interface CapturedBody {
  base64: string
  /** Bytes of the body seen, kept or not. */
  size: number
  /** Fewer bytes are kept than were seen: cut at inspect.bodyBytes, or dropped under inspect.maxMemory. */
  truncated: boolean
}

export interface RecordedRequest {
  id: string
  /** ISO 8601, when the request came in. */
  time: string
  source: RequestSource
  method: string
  /** Path and query, as the visitor sent them. */
  path: string
  /** null until a response (or the proxy's own answer) has begun, or when none ever did. */
  status: number | null
  firstByteMs: number | null
  /** null while the request is under way. */
  durationMs: number | null
  /** Bytes of the request body. */
  bytesIn: number
  /** Bytes of the response body. */
  bytesOut: number
  visitor: string
  protocol: RequestProtocol
  /** As sent, but for the values of Authorization, Proxy-Authorization and Cookie, which are masked. */
  requestHeaders: [string, string][]
  /** As received, but for the values of Set-Cookie, which are masked. */
  responseHeaders: [string, string][]
  /** null in summaries, for a request without a body, or with inspect.bodyBytes 0. */
  requestBody: CapturedBody | null
  responseBody: CapturedBody | null
  /** The id of the request this one replayed. */
  replayOf?: string
}

export interface ListRequestsResponse {
  requests: RecordedRequest[]
}

export interface RequestResponse {
  request: RecordedRequest
}

export interface ReplayRequest {
  /** Base64; sent instead of the recorded body. */
  body?: string
}

/** What replaces a masked header's value. */
export const MASKED = '[masked]'

/** Names (lower case) of the headers whose values are masked wherever a recorded request is shown. */
export const MASKED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

/** How many requests a list may ask for: more than any source keeps. */
export const MAX_LIST_LIMIT = 100_000

const REQUEST_ID = /^[a-z0-9][a-z0-9-]{0,63}$/

export interface RequestsQuery {
  source?: RequestSource
  limit?: number
  follow: boolean
}

/** The query of GET /v1/requests: tunnel=<port> or endpoint=<id>, limit=<n>, follow=0|1. */
export function parseRequestsQuery(params: URLSearchParams): RequestsQuery {
  for (const key of params.keys()) {
    if (!['tunnel', 'endpoint', 'limit', 'follow'].includes(key)) throw badInput(`Unknown query parameter "${key}"; accepted: tunnel, endpoint, limit, follow.`)
  }

  const tunnel = params.get('tunnel')
  const endpoint = params.get('endpoint')
  const limit = params.get('limit')
  const follow = params.get('follow')
  if (tunnel !== null && endpoint !== null) throw badInput('Give "tunnel" or "endpoint", not both.')
  if (follow !== null && follow !== '0' && follow !== '1') throw badInput('"follow" must be 0 or 1.')
  const query: RequestsQuery = {follow: follow === '1'}
  if (tunnel !== null) {
    const port = /^\d{1,5}$/.test(tunnel) ? Number(tunnel) : Number.NaN
    if (!isValidPort(port)) throw badInput(`"tunnel" must be a port from 1 to 65535, not "${tunnel}".`)
    query.source = {kind: 'tunnel', port}
  }

  if (endpoint !== null) {
    if (endpoint === '') throw badInput('"endpoint" must name an endpoint.')
    query.source = {kind: 'endpoint', id: endpoint}
  }

  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIST_LIMIT) throw badInput(`"limit" must be a whole number from 1 to ${MAX_LIST_LIMIT}, not "${limit}".`)
    query.limit = Number(limit)
  }

  return query
}

/** A request id from a path or the command line; a BAD_INPUT error when it cannot be one. */
export function parseRequestId(raw: string): string {
  if (!REQUEST_ID.test(raw)) throw badInput(`"${raw}" is not a request id; ids look like "k3x9-17": see \`tunnelctl expose logs <id> --json\` or \`tunnelctl tunnel logs <port> --json\`.`)
  return raw
}

export function parseReplayRequest(body: unknown): ReplayRequest {
  const object = expectObject(body ?? {}, ['body'])
  if (object.body === undefined) return {}
  if (typeof object.body !== 'string' || !isBase64(object.body)) throw badInput('"body" must be base64 text.')
  return {body: object.body}
}

function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0
}

// The replies' parsers: the other side may be an older or broken build.

const count = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0
const msOrNull = (value: unknown): value is number | null => value === null || (typeof value === 'number' && Number.isFinite(value) && value >= 0)

export function parseRequestSource(value: unknown): RequestSource {
  if (!isObject(value)) throw malformedReply('request', '"source" is not an object')
  if (value.kind === 'tunnel' && isValidPort(value.port)) return {kind: 'tunnel', port: value.port}
  if (value.kind === 'endpoint' && typeof value.id === 'string') return {kind: 'endpoint', id: value.id}
  throw malformedReply('request', '"source" is neither a tunnel nor an endpoint')
}

function parseHeaders(value: unknown, name: string): [string, string][] {
  if (!Array.isArray(value) || !value.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string')) {
    throw malformedReply('request', `"${name}" must be a list of [name, value] pairs`)
  }

  return value as [string, string][]
}

function parseBody(value: unknown, name: string): CapturedBody | null {
  if (value === null) return null
  if (!isObject(value) || typeof value.base64 !== 'string' || !isBase64(value.base64) || !count(value.size) || typeof value.truncated !== 'boolean') {
    throw malformedReply('request', `"${name}" must be null or {base64, size, truncated}`)
  }

  return {base64: value.base64, size: value.size, truncated: value.truncated}
}

/** A recorded request from the socket, checked field by field; summaries have null bodies. */
export function parseRecordedRequest(value: unknown): RecordedRequest {
  const object = expectReply(value)
  const {id, time, method, path, status, firstByteMs, durationMs, bytesIn, bytesOut, visitor, protocol, replayOf} = object
  const fail = (field: string, must: string) => malformedReply('request', `${JSON.stringify(field)} must be ${must}`)
  if (typeof id !== 'string' || !REQUEST_ID.test(id)) throw fail('id', 'a request id')
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) throw fail('time', 'an ISO time')
  if (typeof method !== 'string') throw fail('method', 'a string')
  if (typeof path !== 'string') throw fail('path', 'a string')
  if (status !== null && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 999)) throw fail('status', 'an HTTP status or null')
  if (!msOrNull(firstByteMs)) throw fail('firstByteMs', 'a number or null')
  if (!msOrNull(durationMs)) throw fail('durationMs', 'a number or null')
  if (!count(bytesIn)) throw fail('bytesIn', 'a whole number')
  if (!count(bytesOut)) throw fail('bytesOut', 'a whole number')
  if (typeof visitor !== 'string') throw fail('visitor', 'a string')
  if (protocol !== 'http' && protocol !== 'websocket' && protocol !== 'sse') throw fail('protocol', 'http, websocket or sse')
  if (replayOf !== undefined && typeof replayOf !== 'string') throw fail('replayOf', 'absent or a string')
  return {
    id,
    time,
    source: parseRequestSource(object.source),
    method,
    path,
    status: status as number | null,
    firstByteMs,
    durationMs,
    bytesIn,
    bytesOut,
    visitor,
    protocol,
    requestHeaders: parseHeaders(object.requestHeaders, 'requestHeaders'),
    responseHeaders: parseHeaders(object.responseHeaders, 'responseHeaders'),
    requestBody: parseBody(object.requestBody, 'requestBody'),
    responseBody: parseBody(object.responseBody, 'responseBody'),
    ...(replayOf === undefined ? {} : {replayOf}),
  }
}

export function parseRecordedRequestList(value: unknown): RecordedRequest[] {
  if (!Array.isArray(value)) throw malformedReply('requests')
  return value.map((item) => parseRecordedRequest(item))
}

/** A source as a sentence names it: `the tunnel on port 3000`, `endpoint 3f9a1c2e`. */
export function describeSource(source: RequestSource): string {
  return source.kind === 'tunnel' ? `the tunnel on port ${source.port}` : `endpoint ${source.id}`
}

/** The same source, compared by value. */
export function sameSource(a: RequestSource, b: RequestSource): boolean {
  return a.kind === 'tunnel' ? b.kind === 'tunnel' && a.port === b.port : b.kind === 'endpoint' && a.id === b.id
}
