import type {Socket} from 'node:net'
import type {Settings} from '../config/settings.js'
import type {ExposeMode} from '../protocol/endpoints.js'
import type {KeepAliveOptions, KeptAlive} from '../process/kept-alive.js'
import type {CloudflaredSources} from './cloudflare/cloudflared-binary.js'

export interface Publication {
  /** What visitors open. */
  url: string
  /** Every URL that reaches it, url first, when there are others: a LAN endpoint's addresses. */
  urls?: string[]
  /**
   * The Host visitors' requests reach the proxy with, its port included unless it is 80 or 443 (as
   * URL.host has it): the proxy routes on it. A provider that hands the proxy its connections itself
   * names this host for them (ProviderContext.acceptConnection).
   */
  host: string
  /** The port the provider listens on for this endpoint alone; kept in the endpoint file and asked for again after a restart. */
  listenPort?: number
}

/**
 * The request header a provider's own process sets to the visitor's address, replacing whatever the
 * visitor sent: cloudflared passes on Cloudflare's CF-Connecting-IP, tailscale serve sets
 * X-Forwarded-For to the peer's (or, through Funnel, the client's) address.
 */
export type VisitorHeader = 'cf-connecting-ip' | 'x-forwarded-for'

/** What happened to a publication after publish() resolved. */
export type PublicationState =
  | {status: 'up'; publication: Publication; restarts: number}
  | {status: 'restarting'; restarts: number; reason: string}
  /** It kept dying soon after starting; tried again now and then until it recovers. */
  | {status: 'failed'; restarts: number; reason: string}
  | {status: 'recovered'; restarts: number}

export interface PublishRequest {
  /** The endpoint's id. */
  id: string
  /** Stable for the endpoint's whole life: providers that make a hostname per endpoint use it. */
  name: string
  mode: ExposeMode
  /** How long its first start may take, which the caller waits for; restarts keep the provider's own limit. */
  timeoutMs?: number
  /** Where the provider's programs are looked for, and the PATH they run with: the caller's; this process's own when undefined. */
  searchPath: string | undefined
  /** The port the endpoint was published on before (Publication.listenPort), for a provider that listens for each endpoint itself. */
  listenPort?: number
  /** A kept-alive process went down or came back (perhaps under a new URL). */
  onState(state: PublicationState): void
}

/** How long a start of an endpoint's process may take: the caller waits for the first as long as it asked; nobody waits for a restart. */
export function startTimeoutMs(request: PublishRequest, restart: boolean, providerLimitMs: number): number {
  return restart ? providerLimitMs : (request.timeoutMs ?? providerLimitMs)
}

/** Turns "publish the proxy for this endpoint" into a URL, and takes it down again. */
export interface Provider {
  readonly name: string
  /** The modes it offers, its default first. */
  readonly modes: readonly ExposeMode[]
  /** Why it cannot publish now (binary missing from the search path, not configured, …) and what to do; undefined when it can. */
  unavailable(searchPath?: string): Promise<string | undefined>
  /** Resolves once visitors can reach the proxy at the URL; on failure leaves nothing running and rejects with a TunnelctlError. */
  publish(request: PublishRequest): Promise<Publication>
  unpublish(id: string): Promise<void>
  /** Ends everything it runs: the supervisor is going away. The endpoints stay on disk. */
  close(): Promise<void>
}

/** What the supervisor lends its providers. */
export interface ProviderContext {
  /**
   * The port on 127.0.0.1 that this provider's processes send visitors' requests to: with
   * `visitorHeader`, a listener of the proxy where that header names the visitor; without, the proxy's
   * own port, where the visitor is the connection's address, since any header there is the visitor's own word.
   */
  proxyPort(visitorHeader?: VisitorHeader): number
  /** For files a provider's processes read (cloudflared config), private to the user. */
  runtimeDir: string
  settings: Settings
  /** Where cloudflared may be besides the caller's PATH: the cloudflared.path setting, the installed copy. */
  cloudflared: CloudflaredSources
  /**
   * Hands a connection accepted elsewhere to the proxy as if it had been made to it, so the proxy sees
   * the visitor's own address; every request on it goes to the endpoint published at `host`, whatever Host it names.
   */
  acceptConnection(socket: Socket, host: string): void
  /** Runs a process that is restarted with backoff when it dies, tracked for the next supervisor, its restarts reported as events. */
  keepAlive<T>(options: KeepAliveOptions<T>): KeptAlive<T>
}
