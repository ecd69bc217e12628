import {open} from 'node:fs/promises'
import {parseEvent, type SupervisorEvent} from './protocol/events.js'

/** How many recent events the supervisor keeps, and `tunnelctl events` shows. */
export const KEPT_IN_MEMORY = 200
// Enough of the log's end to hold KEPT_IN_MEMORY events with long crash reports.
const TAIL_BYTES_READ = 256 * 1024

/**
 * The most recent events in the events log, oldest first: for the supervisor taking up where the
 * last one left off, and for `tunnelctl events` while none runs. Lines that do not parse as events
 * (the first, cut by the tail, or one half written) are skipped; no log yet means no events.
 */
export async function readRecentEvents(file: string): Promise<SupervisorEvent[]> {
  let text: string
  try {
    const handle = await open(file, 'r')
    try {
      const {size} = await handle.stat()
      const start = Math.max(0, size - TAIL_BYTES_READ)
      const {buffer, bytesRead} = await handle.read(Buffer.alloc(size - start), 0, size - start, start)
      text = buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await handle.close()
    }
  } catch {
    return []
  }

  const events: SupervisorEvent[] = []
  for (const line of text.split('\n')) {
    try {
      events.push(parseEvent(JSON.parse(line)))
    } catch {}
  }

  return events.slice(-KEPT_IN_MEMORY)
}
