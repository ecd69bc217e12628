import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {parseErrorBody} from '../protocol/wire.js'
import {type JsonReply, NoReply} from './socket-request.js'
import {readSupervisorPid} from './supervisor-pid.js'

/** How long a question may take before the supervisor counts as not answering: it answers from memory at once. */
export const ANSWER_MS = 10_000

/** The supervisor took a request and did not answer it in time; `pid` is its pid file's, when that names one. */
export class SupervisorNotAnswering extends TunnelctlError {
  constructor(
    readonly request: string,
    readonly waitedMs: number,
    readonly pid: number | undefined,
    log: string,
  ) {
    super(
      'SUPERVISOR_UNAVAILABLE',
      `The supervisor${pid ? ` (pid ${pid})` : ''} is not answering: ${request} got no reply within ${waitedMs / 1000}s. ` +
        `Its log is ${log}. Stop it with \`tunnelctl supervisor stop\` (which ends it by its pid if it must), or see \`tunnelctl doctor\`.`,
    )
  }
}

/** A request the supervisor never answered, told as what to do about it; any other error as it is. */
export function explainNoReply(error: unknown, paths: Paths): unknown {
  if (!(error instanceof NoReply)) return error
  return new SupervisorNotAnswering(error.request, error.waitedMs, readSupervisorPid(paths.pidFile), paths.supervisorLog)
}

/** The body of a 2xx reply; any other reply throws the error it carries. */
export function unwrap(reply: JsonReply): unknown {
  if (reply.status >= 200 && reply.status < 300) return reply.body
  throw (
    parseErrorBody(reply.body) ??
    new TunnelctlError('SUPERVISOR_UNAVAILABLE', `The supervisor answered with HTTP ${reply.status} and no usable error.`)
  )
}

export function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
}
