import {createServer, isIPv6, type Server, type Socket} from 'node:net'
import {networkInterfaces} from 'node:os'
import {TunnelctlError} from '../../errors.js'
import type {Provider, ProviderContext, Publication, PublishRequest} from '../provider.js'

/** Ports tried from local.port up before giving up: more than the endpoints a machine shows its LAN. */
const PORTS_TRIED = 100

interface Listening {
  server: Server
  sockets: Set<Socket>
}

/**
 * Publishes endpoints on the local network, each on a listener of its own at <local.address>:<port>
 * whose connections go to the proxy untouched, every request on them to that endpoint whatever Host it
 * names: a visitor may type the machine's name, one of its addresses, or localhost. The first
 * endpoint gets local.port, each other the next free port after it; one brought back after a restart
 * asks for the port it had, so that its URLs stay the same.
 */
export function createLocalProvider(context: ProviderContext): Provider {
  const published = new Map<string, Listening>()

  async function publish({id, listenPort}: PublishRequest): Promise<Publication> {
    await unpublish(id)
    const address = context.settings.get('local.address') as string
    const hostname = context.settings.get('local.hostname') as string
    const sockets = new Set<Socket>()
    let host = ''
    // Like the proxy's own: a client that half-closes after its request still gets the answer.
    const server = createServer({allowHalfOpen: true, noDelay: true}, (socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      context.acceptConnection(socket, host)
    })
    const port = await listenForEndpoint(server, address, listenPort)
    const [url, ...others] = [hostname, ...lanAddresses(address)].map((name) => originOf(name, port))
    host = new URL(url).host
    published.set(id, {server, sockets})
    return {url, urls: [url, ...others], host, listenPort: port}
  }

  async function listenForEndpoint(server: Server, address: string, listenPort: number | undefined): Promise<number> {
    if (listenPort !== undefined) {
      await listenOn(server, address, listenPort, true)
      return listenPort
    }

    const first = context.settings.get('local.port') as number
    const last = Math.min(first + PORTS_TRIED - 1, 65_535)
    for (let port = first; port <= last; port++) {
      if (await listenOn(server, address, port, false)) return port
    }

    throw new TunnelctlError(
      'TUNNEL_FAILED',
      `The local provider found no free port on ${address} from ${first} to ${last}. Choose where to start with \`tunnelctl config set local.port <port>\`.`,
    )
  }

  async function unpublish(id: string): Promise<void> {
    const listening = published.get(id)
    if (!listening) return
    published.delete(id)
    const closed = new Promise((resolve) => listening.server.close(resolve))
    for (const socket of listening.sockets) socket.destroy()
    await closed
  }

  return {
    name: 'local',
    modes: ['private'],
    unavailable: async () => undefined,
    publish,
    unpublish,
    close: async () => {
      await Promise.all([...published.keys()].map(unpublish))
    },
  }
}

/** Resolves with true once listening, with false when the port is taken and `mustHave` is false; rejects, saying what to do, on any other failure. */
function listenOn(server: Server, address: string, port: number, mustHave: boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && !mustHave) return resolve(false)
      const why =
        error.code === 'EADDRINUSE'
          ? 'another program has taken it, and the endpoint keeps its port so that its URLs stay the same. Free it: the endpoint is tried again until it comes up'
          : `${error.message}. Check local.address and local.port with \`tunnelctl config list\``
      reject(new TunnelctlError('TUNNEL_FAILED', `The local provider could not listen on ${address}:${port}: ${why}.`))
    }

    server.once('error', onError)
    server.listen(port, address, () => {
      server.off('error', onError)
      resolve(true)
    })
  })
}

/** The addresses a LAN visitor may type: every interface's, when listening on all of them. */
function lanAddresses(address: string): string[] {
  if (address !== '0.0.0.0' && address !== '::') return [address]
  return Object.values(networkInterfaces())
    .flatMap((infos) => infos ?? [])
    .filter((info) => !info.internal && (info.family === 'IPv4' || (address === '::' && !info.address.startsWith('fe80:'))))
    .map((info) => info.address)
}

function originOf(host: string, port: number): string {
  return new URL(`http://${isIPv6(host) ? `[${host}]` : host}:${port}`).origin
}
