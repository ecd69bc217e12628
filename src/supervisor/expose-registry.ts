import {badInput, TunnelctlError} from '../errors.js'
import type {EndpointInfo, EndpointReply, StartEndpointReply, StartEndpointRequest} from '../protocol/endpoints.js'
import {parseExposeTarget, refuseNonSocketTarget} from '../protocol/expose-target.js'
import type {Provider, Publication, PublicationState} from '../providers/provider.js'
import type {ProviderRegistry} from '../providers/registry.js'
import {type BrokenEndpointFile, ENDPOINT_FILE_VERSION, type EndpointRecord, type EndpointStore, newEndpointId} from '../endpoint-store.js'
import {describeBroken, describeRecord} from '../saved-endpoints.js'
import {Backoff} from '../process/backoff.js'
import type {EventLog} from './event-log.js'
import type {RequestLog} from './inspect/request-log.js'
import {warnIfNothingListens} from './listening.js'
import {AUTH_USERNAME, hashPassword, newPassword} from './proxy/basic-auth.js'
import type {ReverseProxy} from './proxy/reverse-proxy.js'

interface Endpoint {
  record: EndpointRecord
  status: 'starting' | 'up' | 'restarting' | 'failed' | 'unavailable'
  reason: string | null
  publication?: Publication
  upSince?: Date
  restarts: number
  /** For a stored endpoint that could not be brought back: when it is tried again. */
  retry?: Backoff
}

export interface ExposeRegistryOptions {
  store: EndpointStore
  proxy: ReverseProxy
  providers: ProviderRegistry
  events: EventLog
  requestLog: RequestLog
}

/**
 * The expose endpoints: each a file on disk, a route in the proxy and a publication by its provider.
 * Creating one does all three or none; the supervisor's start brings every stored one back.
 */
export class ExposeRegistry {
  private readonly endpoints = new Map<string, Endpoint>()
  private broken: BrokenEndpointFile[] = []
  private closed = false

  constructor(private readonly options: ExposeRegistryOptions) {}

  get size(): number {
    return this.endpoints.size
  }

  list(): EndpointInfo[] {
    const endpoints = [...this.endpoints.values()].sort(
      (a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.record.id.localeCompare(b.record.id),
    )
    return [...endpoints.map((endpoint) => this.describe(endpoint)), ...this.broken.map((file) => describeBroken(file))]
  }

  /** Brings back every stored endpoint. A file that cannot be read is reported and left as it is. */
  async restore(): Promise<void> {
    const {records, broken} = await this.options.store.readAll()
    this.broken = broken
    for (const {file, reason} of broken) this.options.events.record({type: 'expose.broken', file, reason})
    await Promise.all(records.map((record) => this.bringBack(record)))
  }

  /** `cancel` undoes a start still under way, e.g. when the client that asked has gone: nobody would see its password. */
  async start(request: StartEndpointRequest, cancel?: AbortSignal): Promise<StartEndpointReply> {
    if (this.closed) throw stopping()
    const target = parseExposeTarget(request.target)
    await refuseNonSocketTarget(target)
    const provider = await this.options.providers.choose(request.provider, request.searchPath)
    const mode = request.mode ?? provider.modes[0]
    if (!provider.modes.includes(mode)) {
      throw badInput(`The ${provider.name} provider has no ${mode} mode; it offers ${provider.modes.join(' and ')}.`)
    }

    let id = newEndpointId()
    while (this.endpoints.has(id) || this.broken.some((file) => file.id === id)) id = newEndpointId()
    const name = request.name ?? id
    const sameName = [...this.endpoints.values()].find((e) => e.record.provider === provider.name && e.record.name === name)
    if (sameName) throw new TunnelctlError('CONFLICT', `Endpoint ${sameName.record.id} already has the name "${name}"; choose another with --name.`)

    const password = request.auth ? newPassword() : undefined
    const record: EndpointRecord = {
      version: ENDPOINT_FILE_VERSION,
      id,
      name,
      provider: provider.name,
      mode,
      target,
      auth: password ? {username: AUTH_USERNAME, bcrypt: await hashPassword(password)} : null,
      createdAt: new Date().toISOString(),
      ...(request.searchPath !== undefined && {searchPath: request.searchPath}),
    }
    const endpoint: Endpoint = {record, status: 'starting', reason: null, restarts: 0}
    this.endpoints.set(id, endpoint)
    // Unpublishing ends the provider's start at once, and publish() then finds the endpoint gone.
    const onCancel = () => {
      this.endpoints.delete(id)
      void provider.unpublish(id)
    }
    cancel?.addEventListener('abort', onCancel, {once: true})
    let warning: string | undefined
    try {
      ;[, warning] = await Promise.all([this.publish(endpoint, provider, request.timeoutMs), warnIfNothingListens(target)])
      endpoint.record = {...endpoint.record, lastUrl: endpoint.publication!.url}
      await this.options.store.write(endpoint.record)
      // The client went away while the file was written: nobody has its password.
      if (cancel?.aborted) await this.options.store.remove(id)
    } catch (error) {
      await this.takeDown(endpoint, provider)
      throw cancel?.aborted ? cancel.reason : error
    } finally {
      cancel?.removeEventListener('abort', onCancel)
    }

    this.options.events.record({type: 'expose.started', endpoint: id, provider: provider.name, url: endpoint.publication!.url})
    return {...withPassword(this.describe(endpoint), password), warnings: warning ? [warning] : []}
  }

  /** Turns auth on (always with a new password) or off. */
  async update(id: string, {auth}: {auth: boolean}): Promise<EndpointReply> {
    const endpoint = this.find(id)
    if (endpoint.status === 'starting') throw new TunnelctlError('CONFLICT', `Endpoint ${id} is still starting; try again once it is up.`)
    const password = auth ? newPassword() : undefined
    const record: EndpointRecord = {...endpoint.record, auth: password ? {username: AUTH_USERNAME, bcrypt: await hashPassword(password)} : null}
    await this.options.store.write(record)
    // Not `record`: the URL may have changed, and been saved, while it was written.
    endpoint.record = {...endpoint.record, auth: record.auth}
    if (endpoint.publication) this.route(endpoint, endpoint.publication.host)
    return withPassword(this.describe(endpoint), password)
  }

  /** Deletes its file, then takes it down: a file that cannot be deleted leaves it as it was. */
  async stop(id: string): Promise<EndpointInfo> {
    const endpoint = this.find(id)
    const info = this.describe(endpoint)
    await this.options.store.remove(id)
    await this.takeDown(endpoint, this.options.providers.get(endpoint.record.provider))
    this.options.requestLog.forget({kind: 'endpoint', id})
    this.options.events.record({type: 'expose.stopped', endpoint: id, provider: endpoint.record.provider, url: info.url})
    return info
  }

  async stopAll(): Promise<EndpointInfo[]> {
    const ids = this.list().filter((e) => e.status !== 'broken').map((e) => e.id)
    return Promise.all(ids.map((id) => this.stop(id)))
  }

  /** Ends every provider process; the endpoints stay on disk for the next supervisor. */
  async close(): Promise<void> {
    this.closed = true
    for (const endpoint of this.endpoints.values()) endpoint.retry?.cancel()
    await this.options.providers.close()
  }

  private describe(endpoint: Endpoint): EndpointInfo {
    return describe(endpoint, this.options.requestLog.count({kind: 'endpoint', id: endpoint.record.id}))
  }

  private find(id: string): Endpoint {
    const endpoint = this.endpoints.get(id)
    if (endpoint) return endpoint
    const broken = this.broken.find((file) => file.id === id)
    if (broken) {
      throw new TunnelctlError(
        'CONFLICT',
        `Endpoint ${id} cannot be read (${broken.reason}), so tunnelctl leaves it alone. Fix or delete ${broken.file}, then run \`tunnelctl supervisor stop\`.`,
      )
    }

    throw new TunnelctlError('NOT_FOUND', `No endpoint ${id}. See them all with \`tunnelctl expose list\`.`)
  }

  private async bringBack(record: EndpointRecord): Promise<void> {
    const endpoint: Endpoint = {record, status: 'starting', reason: null, restarts: 0}
    this.endpoints.set(record.id, endpoint)
    await this.republish(endpoint)
  }

  /**
   * Publishes a stored endpoint with the PATH saved with it. One that cannot be published (its
   * provider not available yet after a boot, say) is unavailable, and tried again on the schedule of
   * a crashed provider process until it comes up or is stopped.
   */
  private async republish(endpoint: Endpoint): Promise<void> {
    const {record} = endpoint
    const provider = this.options.providers.get(record.provider)
    try {
      if (!provider) throw new Error(`there is no provider "${record.provider}" any more; configure custom.${record.provider}.command again`)
      const why = await provider.unavailable(record.searchPath)
      if (why) throw new Error(why)
      const stored = endpoint.record
      await this.publish(endpoint, provider)
      endpoint.retry = undefined
      this.announceRestored(endpoint, stored)
    } catch (error) {
      if (this.endpoints.get(record.id) !== endpoint || this.closed) return
      endpoint.reason = (error as Error).message
      if (endpoint.status !== 'unavailable') {
        endpoint.status = 'unavailable'
        this.options.events.record({type: 'expose.unavailable', endpoint: record.id, provider: record.provider, reason: endpoint.reason})
      }

      endpoint.retry ??= new Backoff()
      endpoint.retry.schedule(() => void this.republish(endpoint))
    }
  }

  /** `timeoutMs` bounds the first start of the provider's process, which a caller waits for; without it, the provider's own limit. */
  private async publish(endpoint: Endpoint, provider: Provider, timeoutMs?: number): Promise<void> {
    const {id, name, mode, searchPath, listenPort} = endpoint.record
    const publication = await provider.publish({id, name, mode, timeoutMs, searchPath, listenPort, onState: (state) => this.onState(endpoint, state)})
    if (this.endpoints.get(id) !== endpoint || this.closed) {
      // Stopped while the provider was at work.
      await provider.unpublish(id)
      throw new TunnelctlError('TUNNEL_FAILED', `Endpoint ${id} was stopped before it was up.`)
    }

    try {
      this.route(endpoint, publication.host)
    } catch (error) {
      // A host another endpoint holds: nothing of this publication may linger, a restore tries again.
      await provider.unpublish(id)
      throw error
    }

    endpoint.publication = publication
    if (publication.listenPort !== listenPort) endpoint.record = {...endpoint.record, listenPort: publication.listenPort}
    this.markUp(endpoint)
  }

  /** Points the host at the endpoint's target, with its current auth. */
  private route(endpoint: Endpoint, host: string): void {
    const other = [...this.endpoints.values()].find((e) => e !== endpoint && e.publication?.host === host)
    if (other) throw new TunnelctlError('CONFLICT', `The host ${host} already belongs to endpoint ${other.record.id}.`)
    const {target, auth} = endpoint.record
    const source = {kind: 'endpoint', id: endpoint.record.id} as const
    this.options.proxy.setRoute(host, auth ? {target, source, authHash: auth.bcrypt} : {target, source})
  }

  private onState(endpoint: Endpoint, state: PublicationState): void {
    if (this.endpoints.get(endpoint.record.id) !== endpoint || this.closed) return
    endpoint.restarts = state.restarts
    switch (state.status) {
      case 'restarting':
        endpoint.status = 'restarting'
        endpoint.reason = state.reason
        return
      case 'failed':
        endpoint.status = 'failed'
        endpoint.reason = `${state.reason}. It keeps dying soon after it starts; tunnelctl tries again now and then, and \`tunnelctl expose stop ${endpoint.record.id}\` removes it.`
        return
      case 'recovered':
        this.markUp(endpoint)
        return
    }

    const previous = endpoint.publication
    if (previous && previous.host !== state.publication.host) this.options.proxy.removeRoute(previous.host)
    try {
      this.route(endpoint, state.publication.host)
    } catch (error) {
      endpoint.status = 'unavailable'
      endpoint.reason = (error as Error).message
      return
    }

    endpoint.publication = state.publication
    // Failed stays failed, though it serves for now, until it has stayed up long enough to recover.
    if (endpoint.status !== 'failed') this.markUp(endpoint)
    if (previous && previous.url !== state.publication.url) {
      this.options.events.record({type: 'expose.url_changed', endpoint: endpoint.record.id, oldUrl: previous.url, newUrl: state.publication.url})
      this.savePublication(endpoint, endpoint.record)
    }
  }

  /** Says where a restored endpoint is, and whether that is not where it was last known to be: its users may not know yet. */
  private announceRestored(endpoint: Endpoint, stored: EndpointRecord): void {
    const {id, provider, lastUrl} = endpoint.record
    const {url} = endpoint.publication!
    this.options.events.record({type: 'expose.up', endpoint: id, provider, url})
    if (lastUrl !== undefined && lastUrl !== url) {
      this.options.events.record({type: 'expose.url_changed', endpoint: id, oldUrl: lastUrl, newUrl: url})
    }

    this.savePublication(endpoint, stored)
  }

  /**
   * Keeps in the endpoint's file what its publication taught since `stored` was read or written: its
   * URL, for the next supervisor to compare with, and the port a local endpoint got, to ask for again.
   */
  private savePublication(endpoint: Endpoint, stored: EndpointRecord): void {
    const url = endpoint.publication?.url
    if (url !== undefined && url !== endpoint.record.lastUrl) endpoint.record = {...endpoint.record, lastUrl: url}
    if (endpoint.record === stored) return
    this.options.store
      .rewrite(endpoint.record)
      .catch((error: Error) => console.error(`could not save endpoint ${endpoint.record.id}: ${error.message}`))
  }

  private markUp(endpoint: Endpoint): void {
    endpoint.status = 'up'
    endpoint.reason = null
    endpoint.upSince = new Date()
  }

  /** Undoes whatever of route and publication the endpoint has; its file is the caller's. */
  private async takeDown(endpoint: Endpoint, provider: Provider | undefined): Promise<void> {
    const {id} = endpoint.record
    endpoint.retry?.cancel()
    if (this.endpoints.get(id) === endpoint) this.endpoints.delete(id)
    if (endpoint.publication) this.options.proxy.removeRoute(endpoint.publication.host)
    await provider?.unpublish(id)
  }
}

function describe(endpoint: Endpoint, requests: number): EndpointInfo {
  return describeRecord(endpoint.record, {
    url: endpoint.publication?.url ?? null,
    urls: endpoint.publication ? (endpoint.publication.urls ?? [endpoint.publication.url]) : [],
    status: endpoint.status,
    reason: endpoint.reason,
    upSince: endpoint.status === 'up' ? (endpoint.upSince?.toISOString() ?? null) : null,
    restarts: endpoint.restarts,
    nextTryAt: endpoint.status === 'unavailable' ? (endpoint.retry?.nextTryAt?.toISOString() ?? null) : null,
    requests,
  })
}

function withPassword(endpoint: EndpointInfo, password: string | undefined): EndpointReply {
  return password === undefined ? {endpoint} : {endpoint, password}
}

function stopping(): TunnelctlError {
  return new TunnelctlError('SUPERVISOR_STOPPING', 'The supervisor is shutting down; run this again once it has stopped.')
}
