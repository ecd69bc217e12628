import type {ServerResponse} from 'node:http'
import type {SupervisorEvent} from '../protocol/events.js'
import type {StartTunnelRequest} from '../protocol/tunnels.js'
import type {EventLog} from './event-log.js'
import type {TunnelRegistry} from './tunnel-registry.js'

export interface HeldTunnelsOptions {
  tunnels: TunnelRegistry
  events: EventLog
  /** Called each time a hold ends, once its tunnel is stopped: the supervisor decides whether a one-off should go. */
  onReleased(): void
}

/**
 * Tunnels held by a connection (`tunnel run`): the start's reply stays open as NDJSON, the tunnel
 * first and then its events, and when the connection closes, however the client went (Ctrl-C,
 * SIGKILL), the tunnel is stopped. Also remembers whether a run started this supervisor for itself.
 */
export class HeldTunnels {
  private holders = 0
  private startedForARun = false

  constructor(private readonly options: HeldTunnelsOptions) {}

  /** Connections holding a tunnel, or waiting for one to start. */
  get size(): number {
    return this.holders
  }

  /** Whether a run said it started this supervisor, which should then not outlive what it holds. */
  get oneOff(): boolean {
    return this.startedForARun
  }

  /** Starts the tunnel and streams it on `response`; a start that fails throws, for an ordinary error reply. */
  async hold(request: StartTunnelRequest, response: ServerResponse, cancel: AbortSignal): Promise<'streamed'> {
    const {tunnels, events} = this.options
    this.holders++
    if (request.oneOff) this.startedForARun = true
    const closed = new Promise((resolve) => response.once('close', resolve))
    // Subscribed before the start: a crash may be recorded before the code after `await` runs.
    const early: SupervisorEvent[] = []
    let deliver = (event: SupervisorEvent) => void early.push(event)
    const unsubscribe = events.subscribe((event) => deliver(event))
    let started: Awaited<ReturnType<TunnelRegistry['start']>>
    try {
      started = await tunnels.start(request, cancel)
    } catch (error) {
      unsubscribe()
      void closed.then(() => this.release())
      throw error
    }

    const {port, url, pid} = started.tunnel
    response.writeHead(201, {'content-type': 'application/x-ndjson'})
    response.write(`${JSON.stringify(started)}\n`)
    deliver = (event) => {
      if (!isAbout(event, port, url) || response.writableEnded) return
      // Either ends the tunnel (a crash; a stop by `tunnel stop`, the run itself or the supervisor's shutdown), and so the hold.
      response.end(`${JSON.stringify(event)}\n`)
    }

    for (const event of early) deliver(event)
    void closed.then(async () => {
      unsubscribe()
      try {
        // Only this hold's tunnel: after a crash, the port may already have another one.
        if (tunnels.list().some((tunnel) => tunnel.port === port && tunnel.pid === pid)) await tunnels.stop(port)
      } catch (error) {
        console.error(`could not stop the held tunnel on port ${port}:`, error)
      } finally {
        this.release()
      }
    })
    return 'streamed'
  }

  private release(): void {
    this.holders--
    this.options.onReleased()
  }
}

/**
 * What happens to this tunnel after it started, known by its port and its URL, which a later tunnel
 * on the same port will not have.
 */
function isAbout(event: SupervisorEvent, port: number, url: string | null): boolean {
  return (event.type === 'tunnel.crashed' || event.type === 'tunnel.stopped') && event.port === port && event.url === url
}
