import type {IncomingMessage} from 'node:http'

/**
 * Who sent a request, as far as the proxy can tell without trusting the sender.
 *
 * A connection from loopback was made by a provider process on this machine (cloudflared,
 * tailscale serve, ssh -R) on behalf of a visitor elsewhere, so its own address says nothing
 * about the visitor: every one of them would share it. The provider's word is used instead:
 * cf-connecting-ip, which Cloudflare's edge sets and cloudflared passes on, else the last
 * X-Forwarded-For entry, the one the nearest proxy appended (the entries before it are whatever
 * the visitor chose to send). Any other connection came straight from the visitor: the local
 * provider hands its sockets to the proxy with their real remote address, and then that address
 * is the one thing the visitor cannot forge, so its headers are ignored.
 */
export function visitorAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? 'unknown'
  if (!isLoopback(address)) return address

  const lastForwardedFor = headerText(request, 'x-forwarded-for').split(',').at(-1)!.trim()
  return headerText(request, 'cf-connecting-ip') || lastForwardedFor || address
}

/** Node joins repeated headers of these kinds into one string; '' when absent. */
function headerText(request: IncomingMessage, name: string): string {
  const value = request.headers[name]
  return typeof value === 'string' ? value.trim() : ''
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')
}
