/** The events part of the control protocol (/v1/events), also the lines of the events log. */
import {badInput} from '../errors.js'
import {isValidPort} from '../ports.js'
import {expectReply, malformedReply} from './wire.js'

interface EventBase {
  id: number
  time: string
}

interface ProviderProcessDown {
  provider: string
  /** null for a process shared by several endpoints. */
  endpoint: string | null
  restarts: number
  delayMs: number
  reason: string
  lastLines: string[]
}

export type SupervisorEvent = EventBase &
  (
    | {type: 'supervisor.started'; pid: number; version: string}
    | {type: 'supervisor.stopped'; pid: number; reason: string}
    | {type: 'tunnel.started'; port: number; url: string; pid: number}
    | {type: 'tunnel.stopped'; port: number; url: string | null}
    /** The tunnel's supervisor died without stopping it; its successor ended the cloudflared. */
    | {type: 'tunnel.lost'; port: number; pid: number}
    | {
        type: 'tunnel.crashed'
        port: number
        url: string | null
        exitCode: number | null
        signal: string | null
        lastLines: string[]
      }
    | {type: 'expose.started'; endpoint: string; provider: string; url: string}
    /** A saved endpoint that a new supervisor brought back, at this URL. */
    | {type: 'expose.up'; endpoint: string; provider: string; url: string}
    | {type: 'expose.stopped'; endpoint: string; provider: string; url: string | null}
    /** A provider's process died; it is started again after delayMs. */
    | ({type: 'expose.restarting'} & ProviderProcessDown)
    /** It kept dying soon after starting; it is still tried, quietly, every delayMs. */
    | ({type: 'expose.failed'} & ProviderProcessDown)
    /** After it had failed, its process has stayed up a while. */
    | {type: 'expose.recovered'; provider: string; endpoint: string | null; restarts: number}
    | {type: 'expose.url_changed'; endpoint: string; oldUrl: string; newUrl: string}
    /** An endpoint that could not be brought back: its provider is not available, or failed. */
    | {type: 'expose.unavailable'; endpoint: string; provider: string; reason: string}
    /** An endpoint file that could not be read; it is left as it is. */
    | {type: 'expose.broken'; file: string; reason: string}
    /**
     * The settings file cannot be used, and the supervisor goes on with the settings it last read;
     * or, with a key, that key's value (as the file holds it; a secret's hidden) is not valid, and
     * the setting's default is used.
     */
    | {type: 'settings.invalid'; file: string; reason: string; key?: string; value?: unknown}
  )

/** An event before the event log has numbered and stamped it. */
export type NewEvent = SupervisorEvent extends infer E ? (E extends SupervisorEvent ? Omit<E, 'id' | 'time'> : never) : never

export interface ListEventsResponse {
  events: SupervisorEvent[]
}

export function parseEventsQuery(params: URLSearchParams): {follow: boolean} {
  for (const key of params.keys()) {
    if (key !== 'follow') throw badInput(`Unknown query parameter "${key}"; only "follow" is accepted.`)
  }

  const follow = params.get('follow')
  if (follow !== null && follow !== '0' && follow !== '1') throw badInput('"follow" must be 0 or 1.')
  return {follow: follow === '1'}
}

/** A check of one field, and what the field must be, for the message when it is not. */
interface FieldCheck {
  test: (value: unknown) => boolean
  must: string
}

const text: FieldCheck = {test: (v) => typeof v === 'string', must: 'a string'}
const textOrNull: FieldCheck = {test: (v) => v === null || typeof v === 'string', must: 'a string or null'}
const count: FieldCheck = {test: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0, must: 'a whole number'}
const countOrNull: FieldCheck = {test: (v) => v === null || Number.isInteger(v), must: 'an integer or null'}
const port: FieldCheck = {test: isValidPort, must: 'a port from 1 to 65535'}
const lines: FieldCheck = {test: (v) => Array.isArray(v) && v.every((line) => typeof line === 'string'), must: 'a list of strings'}
const anything: FieldCheck = {test: () => true, must: 'anything'}
const optional = (check: FieldCheck): FieldCheck => ({test: (v) => v === undefined || check.test(v), must: `absent or ${check.must}`})

type EventType = SupervisorEvent['type']
type FieldsOf<T extends EventType> = Exclude<keyof Extract<SupervisorEvent, {type: T}>, keyof EventBase | 'type'>

const PROVIDER_PROCESS_DOWN = {provider: text, endpoint: textOrNull, restarts: count, delayMs: count, reason: text, lastLines: lines}

/** Every event type's fields beyond id, time and type: the compiler holds this to SupervisorEvent, field for field. */
const EVENT_FIELDS: {[T in EventType]: Record<FieldsOf<T>, FieldCheck>} = {
  'supervisor.started': {pid: count, version: text},
  'supervisor.stopped': {pid: count, reason: text},
  'tunnel.started': {port, url: text, pid: count},
  'tunnel.stopped': {port, url: textOrNull},
  'tunnel.lost': {port, pid: count},
  'tunnel.crashed': {port, url: textOrNull, exitCode: countOrNull, signal: textOrNull, lastLines: lines},
  'expose.started': {endpoint: text, provider: text, url: text},
  'expose.up': {endpoint: text, provider: text, url: text},
  'expose.stopped': {endpoint: text, provider: text, url: textOrNull},
  'expose.restarting': PROVIDER_PROCESS_DOWN,
  'expose.failed': PROVIDER_PROCESS_DOWN,
  'expose.recovered': {provider: text, endpoint: textOrNull, restarts: count},
  'expose.url_changed': {endpoint: text, oldUrl: text, newUrl: text},
  'expose.unavailable': {endpoint: text, provider: text, reason: text},
  'expose.broken': {file: text, reason: text},
  'settings.invalid': {file: text, reason: text, key: optional(text), value: anything},
}

function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(EVENT_FIELDS, type)
}

/** An event from the socket or the events log, checked field by field against its type. */
export function parseEvent(value: unknown): SupervisorEvent {
  assertEvent(value)
  return value
}

/** Throws a malformed reply naming the event and its first wrong field; EVENT_FIELDS is held to SupervisorEvent by the compiler. */
function assertEvent(value: unknown): asserts value is SupervisorEvent {
  const object = expectReply(value)
  const {id, time, type} = object
  if (!Number.isInteger(id) || typeof time !== 'string') throw malformedReply('event', 'without a numeric "id" and a "time"')
  if (!isEventType(type)) throw malformedReply('event', `event ${id} has the unknown type ${JSON.stringify(type)}`)
  const fields: Record<string, FieldCheck> = EVENT_FIELDS[type]
  for (const [name, check] of Object.entries(fields)) {
    if (!check.test(object[name])) throw malformedReply('event', `event ${id}, ${type}: ${JSON.stringify(name)} must be ${check.must}`)
  }
}

export function parseEventList(value: unknown): SupervisorEvent[] {
  if (!Array.isArray(value)) throw malformedReply('events')
  return value.map((event) => parseEvent(event))
}
