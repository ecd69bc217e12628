import type {OutgoingHttpHeaders, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {rawResponseHead} from './forwarding.js'

/** A short plain-text answer the proxy gives itself instead of the upstream's. */
export interface PlainAnswer {
  status: number
  text: string
  headers?: OutgoingHttpHeaders
}

export const NOT_A_FORWARD_PROXY: PlainAnswer = {status: 400, text: 'tunnelctl: this proxy only serves its own endpoints and forwards nowhere else\n'}
export const TWO_HOSTS: PlainAnswer = {status: 400, text: 'tunnelctl: a request must have exactly one Host header\n'}
export const NO_ENDPOINT: PlainAnswer = {status: 404, text: 'tunnelctl: nothing is exposed at this host name\n'}
export const UNAUTHORIZED: PlainAnswer = {
  status: 401,
  text: 'tunnelctl: this endpoint needs the username tunnelctl and its password\n',
  headers: {'www-authenticate': 'Basic realm="tunnelctl"'},
}

export function tooManyFailedLogins(retryAfter: number): PlainAnswer {
  return {
    status: 429,
    text: `tunnelctl: too many wrong passwords from your address; try again in ${retryAfter} s\n`,
    headers: {'retry-after': String(retryAfter)},
  }
}

export function tooManyFailedLoginsHere(retryAfter: number): PlainAnswer {
  return {
    status: 429,
    text: `tunnelctl: too many wrong passwords at this endpoint; try again in ${retryAfter} s\n`,
    headers: {'retry-after': String(retryAfter)},
  }
}

/** Checks take a fraction of a second each: one second later, some have finished. */
export const TOO_MANY_CHECKS: PlainAnswer = {
  status: 429,
  text: 'tunnelctl: too many password checks at once; try again in 1 s\n',
  headers: {'retry-after': '1'},
}

/** `where` as targetName gives it. */
export function nothingAnswers(where: string): PlainAnswer {
  return {status: 502, text: `tunnelctl: nothing answers at ${where}\n`}
}

/** `where` as targetName gives it. */
export function noAnswerInTime(where: string, seconds: number): PlainAnswer {
  return {status: 504, text: `tunnelctl: the app at ${where} did not answer within ${seconds} s (proxy.responseTimeout)\n`}
}

/** `where` as targetName gives it. */
export function untransferable(where: string, codings: string): PlainAnswer {
  return {status: 502, text: `tunnelctl: the app at ${where} sent its body in transfer coding "${codings}", which cannot be passed on to this client\n`}
}

/** `where` as targetName gives it. */
export function unreadableAnswer(where: string): PlainAnswer {
  return {status: 502, text: `tunnelctl: the app at ${where} sent a response the proxy cannot read as HTTP/1.1\n`}
}

function plainTextHeaders(text: string): OutgoingHttpHeaders {
  return {'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text)}
}

export function answer(response: ServerResponse, {status, text, headers}: PlainAnswer): void {
  response.writeHead(status, {...headers, ...plainTextHeaders(text)})
  response.end(text)
  // Discard whatever body is left, so the connection can carry the next request.
  response.req.resume()
}

/** For a connection no longer managed by node:http (upgrades and CONNECT); closes it after the answer. */
export function answerOnSocket(socket: Duplex, {status, text, headers}: PlainAnswer): void {
  if (!socket.writable) return
  const lines = Object.entries({...headers, ...plainTextHeaders(text), connection: 'close'}).flatMap(([name, value]) => [name, String(value)])
  const head = rawResponseHead(status, undefined, lines)
  socket.end(head + text, () => socket.destroy())
}
