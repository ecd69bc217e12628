// A recorded request as a curl command for a POSIX shell, sent to the local target (the app itself,
// as the proxy would reach it): a quick tunnel's URL changes, and a password the proxy asked for is
// stored nowhere, so the public URL could not be replayed from the record anyway.

/** Leaves curl to set these, or they belong to one connection only. */
const LEFT_OUT = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'])
/** The headers recorded with their values replaced by MASKED (src/protocol/requests.ts). */
const MASKABLE = new Set(['authorization', 'proxy-authorization', 'cookie'])
const MASKED = '[masked]'

/** Quoted for sh: inside single quotes nothing is special but the single quote itself. */
export function shellQuote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/**
 * Where the target of a tunnel or endpoint is, as curl reaches it: {url} or {socket, url}. A tunnel's
 * is its port; an endpoint's target is a port, `host:port`, an http(s) URL or `unix:<path>`.
 */
export function targetOf(target) {
  if (/^\d+$/.test(target)) return {url: `http://localhost:${target}`}
  if (target.startsWith('unix:')) return {socket: target.slice('unix:'.length), url: 'http://localhost'}
  if (/^https?:\/\//i.test(target)) return {url: target.replace(/\/+$/, '')}
  return {url: `http://${target}`}
}

/**
 * The command, and the headers it leaves out because their values were masked when recorded.
 * `text` is the body as text, or undefined when it is binary (then it goes through base64 -d).
 */
export function curlCommand(entry, where, body) {
  const masked = []
  const parts = ['curl', '--globoff', '--path-as-is']
  if (where.socket !== undefined) parts.push('--unix-socket', shellQuote(where.socket))
  if (entry.method === 'HEAD') parts.push('--head')
  else if (entry.method !== 'GET' || body) parts.push('--request', shellQuote(entry.method))
  let contentType = false
  for (const [name, value] of entry.requestHeaders) {
    const key = name.toLowerCase()
    if (LEFT_OUT.has(key)) continue
    if (isMasked(key, value)) {
      masked.push(name)
      continue
    }

    if (key === 'content-type') contentType = true
    parts.push('--header', shellQuote(`${name}: ${value}`))
  }

  let input = ''
  if (body) {
    // curl would otherwise add a Content-Type of its own to a body that came without one.
    if (!contentType) parts.push('--header', shellQuote('Content-Type:'))
    if (body.text !== undefined) parts.push('--data-raw', shellQuote(body.text))
    else {
      input = `printf %s ${shellQuote(body.base64)} | base64 -d | `
      parts.push('--data-binary', '@-')
    }
  }

  parts.push(shellQuote(where.url + entry.path))
  return {command: input + parts.join(' '), masked}
}

/** Sending the mask in place of the value would be wrong. */
function isMasked(key, value) {
  return MASKABLE.has(key) && value === MASKED
}
