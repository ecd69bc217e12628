/** The events part of the control protocol (/v1/events), also the lines of the events log. */
import {badInput} from '../errors.js'
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

export function parseEvent(value: unknown): SupervisorEvent {
  const object = expectReply(value)
  if (typeof object.id !== 'number' || typeof object.time !== 'string' || typeof object.type !== 'string') {
    throw malformedReply('event')
  }

  // Events are rendered field by field with fallbacks, so beyond the envelope a newer supervisor's
  // extra fields or types are passed through rather than rejected.
  return object as unknown as SupervisorEvent
}
