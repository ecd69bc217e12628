import {describe, expect, it} from 'vitest'
import {failureHint, QuickTunnelOutput} from '../../src/providers/cloudflare/quick-tunnel-output.js'

const ts = '2026-11-21T04:46:02Z'
const box = (url: string) => [
  `${ts} INF +--------------------------------------------------------------------------------------------+`,
  `${ts} INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |`,
  `${ts} INF |  ${url.padEnd(88)}  |`,
  `${ts} INF +--------------------------------------------------------------------------------------------+`,
]

function feed(lines: string[]): QuickTunnelOutput {
  const output = new QuickTunnelOutput()
  for (const line of lines) output.push(line)
  return output
}

describe('reading a quick tunnel URL from cloudflared output', () => {
  it('takes the URL from the box row after "Your quick Tunnel has been created"', () => {
    const output = feed([`${ts} INF Requesting new quick Tunnel on trycloudflare.com...`, ...box('https://seasonal-deck-organisms-sf.trycloudflare.com')])
    expect(output.url).toBe('https://seasonal-deck-organisms-sf.trycloudflare.com')
    expect(output.registered).toBe(false)
  })

  it('is ready only once a connection is registered', () => {
    const output = feed([
      ...box('https://a-b-c-d.trycloudflare.com'),
      `${ts} INF Registered tunnel connection connIndex=0 connection=7d62 event=0 ip=198.41.200.73 location=fra03 protocol=quic`,
    ])
    expect(output.registered).toBe(true)
  })

  it('never takes api.trycloudflare.com from a failure line', () => {
    const output = feed([
      'failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com: no such host',
      `${ts} ERR Error unmarshaling QuickTunnel response: error code: 1015 status_code="429 Too Many Requests"`,
    ])
    expect(output.url).toBeUndefined()
  })

  it('ignores https addresses in the disclaimer and in box-like rows outside the box', () => {
    const output = feed([
      `${ts} INF Thank you for trying Cloudflare Tunnel. (https://www.cloudflare.com/website-terms/) https://developers.cloudflare.com/cloudflare-one/connections/connect-apps`,
      `${ts} INF |  https://stray-row-outside-box.trycloudflare.com  |`,
    ])
    expect(output.url).toBeUndefined()
  })

  it('keeps the first URL when a pre-check table follows the box', () => {
    const output = feed([...box('https://first-url-here-now.trycloudflare.com'), `${ts} INF |  DNS  |  ok  |`, `${ts} INF |  https://other.trycloudflare.com  |`])
    expect(output.url).toBe('https://first-url-here-now.trycloudflare.com')
  })

  it('refuses a box row naming a reserved TryCloudflare host', () => {
    expect(feed(box('https://api.trycloudflare.com')).url).toBeUndefined()
  })
})

describe('failure hints', () => {
  it('names the rate limit', () => {
    expect(failureHint(['x ERR Error unmarshaling QuickTunnel response: error code: 1015 status_code="429 Too Many Requests"'])).toMatch(/rate limiting/)
  })

  it('names an unreachable API', () => {
    expect(failureHint(['failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": no such host'])).toMatch(/could not reach/)
  })

  it('has nothing to say about an unknown failure', () => {
    expect(failureHint(['something else'])).toBeUndefined()
  })
})
