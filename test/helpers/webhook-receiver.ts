import {createServer, type Server} from 'node:http'

/** A local HTTP server that records the JSON bodies POSTed to it and answers with `status`. */
export class WebhookReceiver {
  readonly received: unknown[] = []
  status = 204
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.writeHead(this.status).end()
    })
  })

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as {port: number}).port}/hook`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
