import {runningSupervisor} from '../client/connect.js'
import type {RecordedRequest, RequestSource} from '../protocol/requests.js'
import type {Listing} from './listings.js'

/** What `tunnel logs` and `expose logs` share; never starts a supervisor: with none running, nothing was recorded. */
export interface RequestLogOptions {
  count: number
  follow: boolean
  json: boolean
}

export const DEFAULT_LOG_COUNT = 20

const NOT_RUNNING = 'No requests: the supervisor is not running, and requests are recorded only in its memory.'

function whose(source: RequestSource): string {
  return source.kind === 'tunnel' ? `the tunnel on port ${source.port}` : `endpoint ${source.id}`
}

/** The newest `count` requests of `source`, oldest first. */
export async function requestListing(source: RequestSource, count: number): Promise<Listing<RecordedRequest[]>> {
  const client = await runningSupervisor()
  if (!client) return {value: [], text: NOT_RUNNING}
  const requests = await client.listRequests(source, count)
  if (requests.length === 0) return {value: requests, text: `No requests recorded for ${whose(source)} yet.`}
  const {renderRequests} = await import('../render/requests.js')
  return {value: requests, text: renderRequests(requests)}
}

/**
 * Prints the newest `count` complete requests of `source`, then each new one as it completes, a line
 * each (a JSON object with --json), until the supervisor stops. Returns a warning when none runs.
 */
export async function followRequests(source: RequestSource, {count, json}: RequestLogOptions): Promise<string | undefined> {
  const client = await runningSupervisor()
  if (!client) return `${NOT_RUNNING} \`tunnelctl supervisor start\` starts it.`
  const {formatRequest} = await import('../render/requests.js')
  await client.followRequests(source, count, (request) => process.stdout.write(`${json ? JSON.stringify(request) : formatRequest(request)}\n`))
  return undefined
}
