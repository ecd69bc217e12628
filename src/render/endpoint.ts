import type {EndpointInfo} from '../protocol/endpoints.js'
import {renderTable} from './table.js'
import {formatUptime, uptimeSince} from './uptime.js'

export function renderPassword(id: string, password: string): string {
  return [
    `Username: tunnelctl`,
    `Password: ${password}`,
    `The password is shown this once and stored nowhere; \`tunnelctl expose update ${id} --auth\` makes a new one.`,
  ].join('\n')
}

/** The endpoints as a table, then a line for each that has other URLs (a local endpoint's LAN addresses) and for each that has something wrong, saying what. */
export function renderEndpoints(endpoints: EndpointInfo[], now = new Date()): string {
  const rows = endpoints.map((e) => [
    e.id,
    e.provider ?? '-',
    e.url ?? '-',
    e.target ?? '-',
    e.auth ? 'yes' : 'no',
    e.status,
    e.upSince ? uptimeSince(e.upSince, now) : '-',
    String(e.restarts),
    String(e.requests),
  ])
  const table = renderTable(['ID', 'PROVIDER', 'URL', 'TARGET', 'AUTH', 'STATUS', 'UPTIME', 'RESTARTS', 'REQUESTS'], rows)
  // A stopped endpoint's reason is the same for all of them: the listing says it once.
  const notes = [
    ...endpoints.filter((e) => e.urls.length > 1).map((e) => `${e.id} also at: ${e.urls.slice(1).join(', ')}`),
    ...endpoints.filter((e) => e.reason && e.status !== 'up' && e.status !== 'stopped').map((e) => `${e.id} ${e.status}${nextTry(e, now)}: ${e.reason}`),
  ]
  return notes.length > 0 ? `${table}\n\n${notes.join('\n')}` : table
}

/** `, next try in 4s` for an endpoint that is tried again; nothing for any other. */
function nextTry({nextTryAt}: EndpointInfo, now: Date): string {
  if (nextTryAt === null) return ''
  const inMs = Math.max(1000, Math.ceil((Date.parse(nextTryAt) - now.getTime()) / 1000) * 1000)
  return `, next try in ${formatUptime(inMs)}`
}
