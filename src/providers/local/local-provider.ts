import {createServer, type Server, type Socket} from 'node:net'
import {TunnelctlError} from '../../errors.js'
import type {Provider, ProviderContext, Publication, PublishRequest} from '../provider.js'

interface Published {
  id: string
  server: Server
  sockets: Set<Socket>
}

/**
 * Publishes the proxy on the local network: one listener on <local.address>:<local.port> whose
 * connections go to the proxy untouched, Host header and all. The URL is http://<local.hostname>:<port>,
 * and since the proxy routes on that hostname, there is one endpoint at a time.
 */
export function createLocalProvider(context: ProviderContext): Provider {
  let published: Published | undefined

  async function publish(request: PublishRequest): Promise<Publication> {
    if (published) {
      throw new TunnelctlError(
        'CONFLICT',
        `The local provider already publishes endpoint ${published.id} on this machine's name; stop it first with \`tunnelctl expose stop ${published.id}\`.`,
      )
    }

    const address = context.settings.get('local.address') as string
    const port = context.settings.get('local.port') as number
    const host = context.settings.get('local.hostname') as string
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      context.acceptConnection(socket)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? `${address}:${port} is taken by another program` : error.message
        reject(new TunnelctlError('TUNNEL_FAILED', `The local provider could not listen: ${why}. Choose another port with \`tunnelctl config set local.port <port>\`.`))
      })
      server.listen(port, address, resolve)
    })
    published = {id: request.id, server, sockets}
    return {url: `http://${host}:${port}`, host}
  }

  async function unpublish(id: string): Promise<void> {
    if (published?.id !== id) return
    const {server, sockets} = published
    published = undefined
    const closed = new Promise((resolve) => server.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }

  return {
    name: 'local',
    modes: ['private'],
    unavailable: async () => undefined,
    publish,
    unpublish,
    close: () => (published ? unpublish(published.id) : Promise.resolve()),
  }
}
