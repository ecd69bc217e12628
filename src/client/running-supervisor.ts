/**
 * How a command that only reads asks the supervisor: never starting one (connect.ts does that, for
 * the commands that change something), and in one request. Every reply names the version of the
 * supervisor that sent it, so the request that checks the version is the one that reads.
 */
import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {parseSupervisorStatus, type SupervisorStatus} from '../protocol/supervisor.js'
import {VERSION} from '../version.js'
import {type JsonReply, NotListening, requestJson} from './socket-request.js'
import {ANSWER_MS, explainNoReply, unwrap} from './supervisor-reply.js'

/**
 * The body of the running supervisor's reply to GET `path`; undefined when none runs, or when one of
 * another version runs that holds nothing, which has nothing to show. One of another version that
 * holds something is left alone, and the command told how to replace it.
 */
export async function readRunningSupervisor(paths: Paths, path: string): Promise<{body: unknown} | undefined> {
  const reply = await ask(paths, path)
  if (!reply) return undefined
  if (reply.version === VERSION) return {body: unwrap(reply)}
  // Another version refuses the request itself, but answers its status to any client.
  const status = await ask(paths, '/v1/status')
  if (!status) return undefined
  const found = parseSupervisorStatus(unwrap(status))
  if (found.version === VERSION) return {body: unwrap(reply)}
  refuseOtherVersionHolding(found)
  return undefined
}

/** A supervisor of another version that holds something is left alone: replacing it would end what it runs. */
export function refuseOtherVersionHolding(status: SupervisorStatus): void {
  const held = [
    status.tunnels > 0 && `${status.tunnels} tunnel(s)`,
    (status.endpoints ?? 0) > 0 && `${status.endpoints} endpoint(s)`,
  ].filter(Boolean)
  if (held.length > 0) {
    throw new TunnelctlError(
      'VERSION_MISMATCH',
      `The running supervisor is tunnelctl ${status.version} and holds ${held.join(' and ')}; this is tunnelctl ${VERSION}. ` +
        'Run `tunnelctl supervisor stop` (it stops the tunnels; endpoints come back with the new one), then run this again.',
    )
  }
}

/** The reply to GET `path`, or undefined when nothing listens on the socket. */
async function ask(paths: Paths, path: string): Promise<JsonReply | undefined> {
  try {
    return await requestJson(paths.socket, 'GET', path, ANSWER_MS)
  } catch (error) {
    if (error instanceof NotListening) return undefined
    throw explainNoReply(error, paths)
  }
}
