import type {IncomingMessage} from 'node:http'
import {isIP} from 'node:net'
import type {VisitorHeader} from '../../providers/provider.js'

/**
 * Who sent a request, as far as the proxy can tell without trusting the sender.
 *
 * `trusted` is the header the provider behind the connection's listener sets itself, replacing
 * whatever the visitor sent (cloudflared: CF-Connecting-IP; tailscale serve: X-Forwarded-For, one
 * address). Its value names the visitor when it is one IP address. Anywhere else (an ssh -R
 * service, a custom command, a LAN visitor of the local provider) those headers are the visitor's
 * own words, so the visitor is the connection's address, the one thing it cannot forge: all visitors
 * of an ssh -R service share the sshd's, and are counted together.
 */
export function visitorAddress(request: IncomingMessage, trusted?: VisitorHeader): string {
  const address = request.socket.remoteAddress ?? 'unknown'
  if (!trusted) return address
  const value = request.headers[trusted]
  // Repeated, Node joins them into one string, which is then no address: only a visitor sends two.
  const named = typeof value === 'string' ? value.trim() : ''
  return isIP(named) ? named : address
}
