import {request} from 'node:http'
import {within} from './wait.js'

export interface RawReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any
}

/** A request over the control socket as `curl --unix-socket` would send it. */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  options: {body?: string; headers?: Record<string, string>} = {},
): Promise<RawReply> {
  const reply = new Promise<RawReply>((resolve, reject) => {
    const req = request({socketPath, method, path, headers: options.headers, agent: false}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined}))
    })
    req.on('error', reject)
    req.end(options.body)
  })
  return within(`the supervisor to answer ${method} ${path}`, reply)
}
