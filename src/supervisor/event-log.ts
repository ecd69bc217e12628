import {appendFile} from 'node:fs/promises'
import {setTimeout as delay} from 'node:timers/promises'
import {KEPT_IN_MEMORY, readRecentEvents} from '../events-file.js'
import type {NewEvent, SupervisorEvent} from '../protocol/events.js'
import {deliverWebhook} from './webhook.js'

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
    for (const event of await readRecentEvents(this.file)) this.remember(event)
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
