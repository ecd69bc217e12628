/**
 * The web inspector's part of the control protocol (POST /v1/inspector): the supervisor starts its
 * inspector when first asked and answers with the URL that lets a browser in. The URL carries the
 * inspector's token, so it crosses only this socket (the user's alone), never a file or a log.
 */
import {isValidPort} from '../ports.js'
import {expectReply, malformedReply} from './wire.js'

export interface InspectorReply {
  /** http://127.0.0.1:<port>/?token=<token> */
  url: string
  port: number
}

export function parseInspectorReply(value: unknown): InspectorReply {
  const {url, port} = expectReply(value)
  if (!isValidPort(port)) throw malformedReply('inspector', 'port')
  if (typeof url !== 'string' || !url.startsWith(`http://127.0.0.1:${port}/?token=`)) throw malformedReply('inspector', 'url')
  return {url, port}
}
