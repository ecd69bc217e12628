/**
 * The expose part of the control protocol (/v1/endpoints): the supervisor's routes and the client
 * mirror it, and whatever crosses the socket goes through a parse* function here.
 */
import {badInput} from '../errors.js'
import {parseExposeTarget} from './expose-target.js'
import {optionalSearchPath, parseTimeoutMs} from './start-options.js'
import {expectObject, expectReply, isOneOf, malformedReply} from './wire.js'

/** public: anyone on the internet; private: only the provider's own network (a tailnet). */
export type ExposeMode = 'public' | 'private'
export const EXPOSE_MODES: readonly ExposeMode[] = ['public', 'private']

/** What newEndpointId makes, and all an id may be: never a path or a pattern. */
export const ENDPOINT_ID = /^[a-z0-9]{8}$/

export function parseEndpointId(input: string): string {
  if (!ENDPOINT_ID.test(input)) {
    throw badInput(`${JSON.stringify(input)} is not an endpoint id: ids are 8 lowercase letters or digits, as \`tunnelctl expose list\` shows them.`)
  }

  return input
}

/** `stopped` only in `expose list` while no supervisor runs: the endpoint is saved, and published by nothing. */
export type EndpointStatus = 'starting' | 'up' | 'restarting' | 'failed' | 'unavailable' | 'broken' | 'stopped'
const STATUSES: readonly EndpointStatus[] = ['starting', 'up', 'restarting', 'failed', 'unavailable', 'broken', 'stopped']

export interface EndpointInfo {
  id: string
  /** null, like provider, mode and target, only for a broken endpoint file. */
  name: string | null
  provider: string | null
  mode: ExposeMode | null
  /** `3000` or `unix:/path`. */
  target: string | null
  url: string | null
  /** Every URL that reaches it, url first (a local endpoint's LAN addresses follow); empty while it has none. */
  urls: string[]
  auth: boolean
  status: EndpointStatus
  /** Why it is unavailable or broken, or what the last restart was about. */
  reason: string | null
  /** ISO 8601, when it last came up. */
  upSince: string | null
  restarts: number
  /** ISO 8601, when an unavailable endpoint is tried again; null while a try is under way, and for every other status. */
  nextTryAt: string | null
  /** Requests the proxy holds a record of (inspect.keep at most). */
  requests: number
}

export interface StartEndpointRequest {
  target: string
  provider?: string
  mode?: ExposeMode
  auth?: boolean
  name?: string
  /** How long to wait for the provider's URL. */
  timeoutMs?: number
  /** The caller's PATH, where the provider's programs are looked for now and whenever the endpoint is restored. */
  searchPath?: string
}

export interface UpdateEndpointRequest {
  auth: boolean
}

/** The password is in the reply only when auth was just enabled: it is stored nowhere. */
export interface EndpointReply {
  endpoint: EndpointInfo
  password?: string
}

export interface StartEndpointReply extends EndpointReply {
  /** What the user should know that did not stop the endpoint, e.g. nothing listening on the target yet. */
  warnings: string[]
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,62}$/

export function parseStartEndpointRequest(body: unknown): StartEndpointRequest {
  const object = expectObject(body, ['target', 'provider', 'mode', 'auth', 'name', 'timeoutMs', 'searchPath'])
  const {target, provider, mode, auth, name} = object
  if (typeof target !== 'string') throw badInput('"target" must be a string: a port (3000) or unix:/path/to.sock.')
  parseExposeTarget(target)
  if (provider !== undefined && (typeof provider !== 'string' || !PROVIDER_NAME.test(provider))) {
    throw badInput(`There is no provider ${JSON.stringify(provider)}: names are lowercase letters, digits and hyphens. \`tunnelctl expose start --help\` lists them.`)
  }
  if (mode !== undefined && !isOneOf(EXPOSE_MODES, mode)) throw badInput(`"mode" must be one of ${EXPOSE_MODES.join(', ')}.`)
  if (auth !== undefined && typeof auth !== 'boolean') throw badInput('"auth" must be true or false.')
  if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
    throw badInput('The name must be a DNS label: lowercase letters, digits and inner hyphens, at most 63 characters.')
  }

  return {
    target,
    provider,
    mode,
    auth,
    name,
    timeoutMs: parseTimeoutMs(object.timeoutMs),
    ...optionalSearchPath(object.searchPath),
  }
}

export function parseUpdateEndpointRequest(body: unknown): UpdateEndpointRequest {
  const {auth} = expectObject(body, ['auth'])
  if (typeof auth !== 'boolean') throw badInput('"auth" must be true or false.')
  return {auth}
}

// Replies, checked on the client side: the supervisor may be another build.

export function parseEndpointInfo(value: unknown): EndpointInfo {
  const {id, name, provider, mode, target, url, urls, auth, status, reason, upSince, restarts, nextTryAt, requests} = expectReply(value)
  const nullableString = (v: unknown): v is string | null => v === null || typeof v === 'string'
  if (
    typeof id !== 'string' ||
    !nullableString(name) ||
    !nullableString(provider) ||
    !(mode === null || isOneOf(EXPOSE_MODES, mode)) ||
    !nullableString(target) ||
    !nullableString(url) ||
    !Array.isArray(urls) ||
    !urls.every((each) => typeof each === 'string') ||
    typeof auth !== 'boolean' ||
    !isOneOf(STATUSES, status) ||
    !nullableString(reason) ||
    !nullableString(upSince) ||
    typeof restarts !== 'number' ||
    !nullableString(nextTryAt) ||
    !(typeof requests === 'number' && Number.isInteger(requests) && requests >= 0)
  ) {
    throw malformedReply('endpoint')
  }

  return {id, name, provider, mode, target, url, urls, auth, status, reason, upSince, restarts, nextTryAt, requests}
}

export function parseEndpointList(value: unknown): EndpointInfo[] {
  if (!Array.isArray(value)) throw malformedReply('endpoint list')
  return value.map((item) => parseEndpointInfo(item))
}

export function parseEndpointReply(value: unknown): EndpointReply {
  const o = expectReply(value)
  if (o.password !== undefined && typeof o.password !== 'string') throw malformedReply('endpoint')
  const endpoint = parseEndpointInfo(o.endpoint)
  return o.password === undefined ? {endpoint} : {endpoint, password: o.password}
}

export function parseStartEndpointReply(value: unknown): StartEndpointReply {
  const {warnings} = expectReply(value)
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) throw malformedReply('endpoint')
  return {...parseEndpointReply(value), warnings}
}
