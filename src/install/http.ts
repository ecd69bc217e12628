/**
 * HTTP for downloads: undici's fetch through an EnvHttpProxyAgent, so that HTTPS_PROXY, HTTP_PROXY
 * and NO_PROXY are honoured as curl honours them, with a limit on every wait. undici is loaded on
 * first use: every `tunnel start` imports this, and only one that installs cloudflared needs it.
 */
import type {Dispatcher, Response} from 'undici'
import {TunnelctlError} from '../errors.js'
import {VERSION} from '../version.js'

/** How long a connection, a response's head, or a pause between two pieces of its body may take. */
export const DEFAULT_DOWNLOAD_TIMEOUT_S = 30

export interface HttpOptions {
  dispatcher: Dispatcher
  timeoutS: number
}

/** The download timeout from TUNNELCTL_DOWNLOAD_TIMEOUT (seconds), for a slow link or a test; the default otherwise. */
function downloadTimeoutS(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TUNNELCTL_DOWNLOAD_TIMEOUT
  if (raw === undefined || raw === '') return DEFAULT_DOWNLOAD_TIMEOUT_S
  if (!/^\d{1,4}$/.test(raw) || Number(raw) === 0) {
    throw new TunnelctlError('BAD_INPUT', `TUNNELCTL_DOWNLOAD_TIMEOUT must be a whole number of seconds from 1 to 9999, not "${raw}". Unset it for the default, ${DEFAULT_DOWNLOAD_TIMEOUT_S}.`)
  }

  return Number(raw)
}

/** An agent with the proxy settings and limits of this environment; the caller closes it. */
export async function httpOptions(env: NodeJS.ProcessEnv = process.env): Promise<HttpOptions> {
  const timeoutS = downloadTimeoutS(env)
  const ms = timeoutS * 1000
  const {EnvHttpProxyAgent} = await import('undici')
  return {timeoutS, dispatcher: new EnvHttpProxyAgent({connect: {timeout: ms}, headersTimeout: ms, bodyTimeout: ms})}
}

/** GET, redirects followed; a failure to get any answer becomes a TunnelctlError that names the URL and why. */
export async function fetchOrExplain(url: string, options: HttpOptions, headers: Record<string, string> = {}): Promise<Response> {
  const {fetch} = await import('undici')
  try {
    return await fetch(url, {dispatcher: options.dispatcher, redirect: 'follow', headers: {'user-agent': `tunnelctl/${VERSION}`, ...headers}})
  } catch (error) {
    throw new TunnelctlError('DOWNLOAD_FAILED', `Could not get ${url}: ${networkFailure(error, options.timeoutS)}.`)
  }
}

/** What undici's error means, in words: fetch wraps the reason in a bare "fetch failed". */
export function networkFailure(error: unknown, timeoutS: number): string {
  const cause = (error as {cause?: unknown}).cause ?? error
  const code = (cause as {code?: unknown}).code
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection within ${timeoutS} s (set TUNNELCTL_DOWNLOAD_TIMEOUT for a slow link, HTTPS_PROXY for a proxy)`
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `the server sent nothing for ${timeoutS} s (set TUNNELCTL_DOWNLOAD_TIMEOUT for a slow link)`
  }

  const message = cause instanceof Error ? cause.message : String(cause)
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
}
