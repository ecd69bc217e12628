import {type BrokenEndpointFile, type EndpointRecord, EndpointStore} from './endpoint-store.js'
import type {EndpointInfo} from './protocol/endpoints.js'
import {formatExposeTarget} from './protocol/expose-target.js'

export const STOPPED_REASON = 'the supervisor is not running; `tunnelctl supervisor start` brings it back'

/**
 * The endpoints as their files say, for `expose list` while no supervisor runs: every one stopped,
 * oldest first, then the files that cannot be read, as the supervisor lists them.
 */
export async function listSavedEndpoints(dir: string): Promise<EndpointInfo[]> {
  const {records, broken} = await new EndpointStore(dir).readAll()
  records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  return [...records.map((record) => describeStopped(record)), ...broken.map((file) => describeBroken(file))]
}

function describeStopped(record: EndpointRecord): EndpointInfo {
  return describeRecord(record, {url: null, urls: [], status: 'stopped', reason: STOPPED_REASON, upSince: null, restarts: 0, nextTryAt: null, requests: 0})
}

/** An endpoint as the protocol shows it: what its file says, and what it is doing now. */
export function describeRecord(
  record: EndpointRecord,
  now: Pick<EndpointInfo, 'url' | 'urls' | 'status' | 'reason' | 'upSince' | 'restarts' | 'nextTryAt' | 'requests'>,
): EndpointInfo {
  return {
    id: record.id,
    name: record.name,
    provider: record.provider,
    mode: record.mode,
    target: formatExposeTarget(record.target),
    url: now.url,
    urls: now.urls,
    auth: record.auth !== null,
    status: now.status,
    reason: now.reason,
    upSince: now.upSince,
    restarts: now.restarts,
    nextTryAt: now.nextTryAt,
    requests: now.requests,
  }
}

/** A file that cannot be read: served by no supervisor, and shown with what is wrong with it. */
export function describeBroken({id, file, reason}: BrokenEndpointFile): EndpointInfo {
  return {
    id,
    name: null,
    provider: null,
    mode: null,
    target: null,
    url: null,
    urls: [],
    auth: false,
    status: 'broken',
    reason: `${file}: ${reason}`,
    upSince: null,
    restarts: 0,
    nextTryAt: null,
    requests: 0,
  }
}
