import {createServer, type Server} from 'node:net'

/**
 * A port nothing listens on, on 127.0.0.1 nor ::1, at the moment of asking: for tests of what
 * happens when nothing is there, which must not assume that a well-known port such as 3000 is free.
 */
export async function unusedPort(): Promise<number> {
  for (;;) {
    const v4 = await listening(0, '127.0.0.1')
    const port = (v4.address() as {port: number}).port
    const v6 = await listening(port, '::1').catch(() => undefined)
    await Promise.all([close(v4), v6 && close(v6)])
    if (v6) return port
  }
}

function listening(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}
