// Shows a captured body as text, pretty JSON or hex. Everything reaches the page through
// textContent: a body is a visitor's, and nothing of it may become markup or script.

/** The bytes of a captured body ({base64, size, truncated}). */
export function bytesOf(captured) {
  const binary = atob(captured.base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** The bytes as text, or undefined when they are not UTF-8 or hold control characters other than tab and line ends. */
export function textOf(bytes) {
  let text
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return undefined
  }

  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return undefined
  }
}

/** Offset, sixteen bytes in hex, and the printable ones, as `hexdump -C` shows them. */
export function hexDump(bytes) {
  const lines = []
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16)
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'))
    const left = hex.slice(0, 8).join(' ')
    const right = hex.slice(8).join(' ')
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`)
  }

  return lines.join('\n')
}

function headerValue(headers, name) {
  const found = headers.find(([key]) => key.toLowerCase() === name)
  return found ? found[1] : ''
}

/**
 * Fills `container` with a body: buttons for the views that fit it (JSON only when it parses, text
 * only when it is text, hex always), the best of them shown first, and a note on its size.
 */
export function showBody(container, captured, headers) {
  container.replaceChildren()
  if (!captured) {
    container.append(note('Not recorded (bodies are off: inspect.bodyBytes is 0).'))
    return
  }

  if (captured.size === 0) {
    container.append(note('Empty.'))
    return
  }

  const bytes = bytesOf(captured)
  const text = textOf(bytes)
  const json = text !== undefined && /json/i.test(headerValue(headers, 'content-type')) ? prettyJson(text) : undefined
  const views = []
  if (json !== undefined) views.push(['JSON', json])
  if (text !== undefined) views.push(['Text', text])
  views.push(['Hex', hexDump(bytes)])

  const buttons = document.createElement('div')
  buttons.className = 'views'
  const pre = document.createElement('pre')
  const show = (index) => {
    pre.textContent = views[index][1]
    pre.dataset.view = views[index][0].toLowerCase()
    for (const [i, button] of [...buttons.children].entries()) button.setAttribute('aria-pressed', String(i === index))
  }

  for (const [index, [name]] of views.entries()) {
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = name
    button.addEventListener('click', () => show(index))
    buttons.append(button)
  }

  show(0)
  const cut = captured.truncated ? `; only the first ${bytes.length} bytes were kept` : ''
  container.append(buttons, pre, note(`${captured.size} bytes${cut}.`))
}

function note(text) {
  const p = document.createElement('p')
  p.className = 'note'
  p.textContent = text
  return p
}
