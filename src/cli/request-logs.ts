import {Flags} from '@oclif/core'
import {runningSupervisor} from '../client/connect.js'
import {describeSource, type RecordedRequest, type RequestSource} from '../protocol/requests.js'
import {TunnelctlCommand} from './base-command.js'
import {countFlag} from './inputs.js'
import type {Listing} from './listings.js'

const DEFAULT_LOG_COUNT = 20

const NOT_RUNNING = 'No requests: the supervisor is not running, and requests are recorded only in its memory.'

/** `tunnel logs` and `expose logs`: the same flags and output, for a tunnel's or an endpoint's requests. Never starts a supervisor. */
export abstract class RequestLogsCommand extends TunnelctlCommand {
  static override flags = {
    count: countFlag('count', 'how many of the most recent requests to show', DEFAULT_LOG_COUNT),
    follow: Flags.boolean({char: 'f', description: 'keep printing new requests as they complete'}),
  }

  /** Lists the newest `count` requests of `source`, or with `follow`, prints them and each new one as it completes, a line each. */
  protected async showLogs(source: RequestSource, {count, follow}: {count: number; follow: boolean}): Promise<RecordedRequest[] | undefined> {
    if (!follow) {
      const {value, text} = await requestListing(source, count)
      this.log(text)
      return value
    }

    const client = await runningSupervisor()
    if (!client) {
      this.warnUser(`${NOT_RUNNING} \`tunnelctl supervisor start\` starts it.`)
      return undefined
    }

    const {formatRequest} = await import('../render/requests.js')
    await client.followRequests(source, count, (request) => process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(request) : formatRequest(request)}\n`))
    return undefined
  }
}

export function logsDescription(what: 'tunnel' | 'endpoint'): string {
  return (
    `Requests are recorded in the supervisor's memory only (inspect.keep per ${what}, bodies up to inspect.bodyBytes). ` +
    'With --follow, keeps printing requests as they complete until the supervisor stops or you press Ctrl-C; with --json as well, one JSON object per line (NDJSON). ' +
    'Replay one with `tunnelctl replay <id>`. Never starts a supervisor.'
  )
}

async function requestListing(source: RequestSource, count: number): Promise<Listing<RecordedRequest[]>> {
  const client = await runningSupervisor()
  if (!client) return {value: [], text: NOT_RUNNING}
  const requests = await client.listRequests(source, count)
  if (requests.length === 0) return {value: requests, text: `No requests recorded for ${describeSource(source)} yet.`}
  const {renderRequests} = await import('../render/requests.js')
  return {value: requests, text: renderRequests(requests)}
}
