import type {RecordedRequest} from '../protocol/requests.js'
import {renderTable} from './table.js'

const HEAD = ['ID', 'TIME', 'METHOD', 'PATH', 'STATUS', 'DURATION', 'SIZE']

/** Recorded requests as a table, oldest first, one row each; the size is the response body's. */
export function renderRequests(requests: RecordedRequest[]): string {
  return renderTable(HEAD, requests.map((request) => cells(request)))
}

/** One request as a line, for --follow: the table's cells, two spaces apart. */
export function formatRequest(request: RecordedRequest): string {
  return cells(request).join('  ')
}

function cells(request: RecordedRequest): string[] {
  return [request.id, clockTime(request.time), request.method, request.path, status(request), duration(request.durationMs), formatBytes(request.bytesOut)]
}

/** The status, marked when the request was a WebSocket upgrade or an event stream; `-` when no response began. */
function status({status, protocol}: RecordedRequest): string {
  const code = status === null ? '-' : String(status)
  return protocol === 'http' ? code : `${code} ${protocol === 'websocket' ? 'ws' : 'sse'}`
}

/** The local time of day, as a log line shows it. */
function clockTime(iso: string): string {
  const time = new Date(iso)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`
}

function duration(ms: number | null): string {
  if (ms === null) return '-'
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }

  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
