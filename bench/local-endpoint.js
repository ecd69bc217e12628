// An expose endpoint on the local provider, which run.js configures as host bench.test on 127.0.0.1:
// the endpoint's own listener hands every connection to the proxy, which routes it to the target.
export const LOCAL_HOST = 'bench.test'

/**
 * Starts one, without auth; resolves with what a client needs to reach it (the port of its own
 * listener, and the Host of its URL), and ways to switch its auth on (resolving with the headers
 * that pass it) and off.
 */
export async function exposeLocal(home, port) {
  const endpoint = await home.json(['expose', 'start', String(port), '--provider', 'local'])
  const url = new URL(endpoint.url)
  const headers = {host: url.host}
  return {
    proxyPort: Number(url.port),
    headers,
    async withAuth() {
      const {password} = await home.json(['expose', 'update', endpoint.id, '--auth'])
      return {...headers, authorization: `Basic ${Buffer.from(`tunnelctl:${password}`).toString('base64')}`}
    },
    withoutAuth: () => home.cli(['expose', 'update', endpoint.id, '--no-auth']),
    stop: () => home.cli(['expose', 'stop', endpoint.id]),
  }
}
