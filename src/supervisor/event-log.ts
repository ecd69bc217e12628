import {appendFile, open} from 'node:fs/promises'
import {setTimeout as delay} from 'node:timers/promises'
import {type NewEvent, parseEvent, type SupervisorEvent} from '../protocol.js'
import {deliverWebhook} from './webhook.js'

const KEPT_IN_MEMORY = 200
// Enough of the log's end to hold KEPT_IN_MEMORY events with long crash reports.
const TAIL_BYTES_READ = 256 * 1024

type Subscriber = (event: SupervisorEvent) => void

/**
 * Every event is numbered, kept in memory (the most recent ones), appended to the events log,
 * handed to live subscribers (`events --follow`) and POSTed to the webhook when one is configured.
 */
export class EventLog {
  private readonly events: SupervisorEvent[] = []
  private readonly subscribers = new Set<Subscriber>()
  private readonly deliveries = new Set<Promise<unknown>>()
  private appending: Promise<void> = Promise.resolve()
  private nextId = 1

  constructor(
    private readonly file: string,
    private readonly webhookUrl: () => string | undefined,
  ) {}

  /** Takes up the numbering and recent history where the previous supervisor left them. */
  async load(): Promise<void> {
    let text: string
    try {
      const handle = await open(this.file, 'r')
      try {
        const {size} = await handle.stat()
        const start = Math.max(0, size - TAIL_BYTES_READ)
        const {buffer, bytesRead} = await handle.read(Buffer.alloc(size - start), 0, size - start, start)
        text = buffer.subarray(0, bytesRead).toString('utf8')
      } finally {
        await handle.close()
      }
    } catch {
      return
    }

    for (const line of text.split('\n')) {
      try {
        this.remember(parseEvent(JSON.parse(line)))
      } catch {}
    }

    this.nextId = (this.events.at(-1)?.id ?? 0) + 1
  }

  record(event: NewEvent): SupervisorEvent {
    const stamped = {id: this.nextId++, time: new Date().toISOString(), ...event} as SupervisorEvent
    this.remember(stamped)
    const line = `${JSON.stringify(stamped)}\n`
    this.appending = this.appending
      .then(() => appendFile(this.file, line, {mode: 0o600}))
      .catch((error) => console.error(`could not append to ${this.file}: ${(error as Error).message}`))
    for (const subscriber of this.subscribers) subscriber(stamped)
    const url = this.webhookUrl()
    if (url) {
      const delivery = deliverWebhook(url, stamped).finally(() => this.deliveries.delete(delivery))
      this.deliveries.add(delivery)
    }

    return stamped
  }

  list(): SupervisorEvent[] {
    return [...this.events]
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber)
    return () => this.subscribers.delete(subscriber)
  }

  /** Waits for the log to be written and, up to maxWaitMs, for webhook deliveries still under way. */
  async flush(maxWaitMs: number): Promise<void> {
    await this.appending
    await Promise.race([Promise.allSettled(this.deliveries), delay(maxWaitMs, undefined, {ref: false})])
  }

  private remember(event: SupervisorEvent): void {
    this.events.push(event)
    if (this.events.length > KEPT_IN_MEMORY) this.events.shift()
  }
}
