import {createServer} from 'node:net'
import {badInput} from './errors.js'

export function isValidPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535
}

/** Parses a port as typed on the command line: decimal digits only, so `0x10`, `+80`, `1e3` and `30.5` are refused. */
export function parsePortArgument(input: string): number {
  const port = /^\d{1,5}$/.test(input) ? Number(input) : Number.NaN
  if (!isValidPort(port)) {
    throw badInput(`Invalid port "${input}": give a whole number from 1 to 65535, for example 3000.`)
  }

  return port
}

/** A port nothing listens on right now, on 127.0.0.1, for a child that needs one of its own. */
export function findFreeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}
