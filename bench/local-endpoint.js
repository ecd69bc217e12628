// An expose endpoint on the local provider, which run.js configures as host bench.test: the proxy
// routes requests with that Host header to the endpoint's target.
export const LOCAL_HOST = 'bench.test'

/** Starts one (the local provider holds one at a time); resolves with what a client needs to reach it. */
export async function exposeLocal(home, port, {auth}) {
  const endpoint = await home.json(['expose', 'start', String(port), '--provider', 'local', ...(auth ? ['--auth'] : [])])
  const {proxyPort} = await home.json(['supervisor', 'status'])
  const headers = {host: LOCAL_HOST}
  if (auth) headers.authorization = `Basic ${Buffer.from(`tunnelctl:${endpoint.password}`).toString('base64')}`
  return {proxyPort, headers, stop: () => home.cli(['expose', 'stop', endpoint.id])}
}
