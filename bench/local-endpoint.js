// An expose endpoint on the local provider, which run.js configures as host bench.test: the proxy
// routes requests with that Host header to the endpoint's target.
export const LOCAL_HOST = 'bench.test'

/**
 * Starts one (the local provider holds one at a time), without auth; resolves with what a client
 * needs to reach it, and ways to switch its auth on (resolving with the headers that pass it) and off.
 */
export async function exposeLocal(home, port) {
  const endpoint = await home.json(['expose', 'start', String(port), '--provider', 'local'])
  const {proxyPort} = await home.json(['supervisor', 'status'])
  const headers = {host: LOCAL_HOST}
  return {
    proxyPort,
    headers,
    async withAuth() {
      const {password} = await home.json(['expose', 'update', endpoint.id, '--auth'])
      return {...headers, authorization: `Basic ${Buffer.from(`tunnelctl:${password}`).toString('base64')}`}
    },
    withoutAuth: () => home.cli(['expose', 'update', endpoint.id, '--no-auth']),
    stop: () => home.cli(['expose', 'stop', endpoint.id]),
  }
}
