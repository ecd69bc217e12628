// The inspector page: a live list of the requests the supervisor records, filters, a detail view,
// replay and copy-as-curl. Plain DOM; every value that came from a visitor goes in as textContent.
import {bytesOf, showBody, textOf} from './body-view.js'
import {curlCommand, targetOf} from './curl.js'

const $ = (id) => document.getElementById(id)

/** Summaries by id, in the order they completed. */
const entries = new Map()
/** The page forgets the oldest past this many, to stay quick; the supervisor may still keep them. */
const MAX_ENTRIES = 5000
let sources = {tunnels: [], endpoints: []}
let selected
/** The entry the detail view shows, with its bodies. */
let shown

function sourceKey(source) {
  return source.kind === 'tunnel' ? `tunnel:${source.port}` : `endpoint:${source.id}`
}

function sourceLabel(source) {
  if (source.kind === 'tunnel') return `tunnel :${source.port}`
  const endpoint = sources.endpoints.find((e) => e.id === source.id)
  return endpoint?.name ?? source.id
}

/** Where a curl goes for this entry: the tunnel's port, or the endpoint's target. */
function targetFor(source) {
  if (source.kind === 'tunnel') return targetOf(String(source.port))
  const endpoint = sources.endpoints.find((e) => e.id === source.id)
  return endpoint?.target ? targetOf(endpoint.target) : undefined
}

function time(iso) {
  const date = new Date(iso)
  return `${date.toLocaleTimeString([], {hour12: false})}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

function duration(ms) {
  if (ms === null) return '–'
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

function cell(text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

function row(entry) {
  const tr = document.createElement('tr')
  tr.dataset.id = entry.id
  const status = entry.status === null ? '–' : String(entry.status)
  const kind = (entry.protocol === 'http' ? '' : ` (${entry.protocol})`) + (entry.replayOf ? ' (replay)' : '')
  tr.append(
    cell(time(entry.time)),
    cell(sourceLabel(entry.source), 'source'),
    cell(entry.method, 'method'),
    cell(entry.path + kind, 'path'),
    cell(status, entry.status === null ? 'status' : `status s${String(entry.status)[0]}`),
    cell(duration(entry.durationMs)),
    cell(size(entry.bytesOut)),
  )
  tr.title = entry.path
  tr.addEventListener('click', () => void select(entry.id))
  return tr
}

function matches(entry) {
  const source = $('filter-source').value
  const status = $('filter-status').value
  const method = $('filter-method').value
  const path = $('filter-path').value.toLowerCase()
  if (source && sourceKey(entry.source) !== source) return false
  if (status === 'none' && entry.status !== null) return false
  if (status && status !== 'none' && String(entry.status ?? '')[0] !== status) return false
  if (method && entry.method !== method) return false
  return !path || entry.path.toLowerCase().includes(path)
}

/** Adds an option to a select unless it has it; keeps the options in order after the first ("all"). */
function offer(select, value, label) {
  if ([...select.options].some((option) => option.value === value)) return
  const option = document.createElement('option')
  option.value = value
  option.textContent = label
  const after = [...select.options].slice(1).find((o) => o.textContent.localeCompare(label) > 0)
  select.insertBefore(option, after ?? null)
}

function offerFilters(entry) {
  offer($('filter-source'), sourceKey(entry.source), sourceLabel(entry.source))
  offer($('filter-method'), entry.method, entry.method)
}

function render() {
  const body = $('requests').tBodies[0]
  const rows = []
  for (const entry of entries.values()) {
    offerFilters(entry)
    if (!matches(entry)) continue
    const tr = row(entry)
    if (entry.id === selected) tr.classList.add('selected')
    rows.push(tr)
  }

  // Newest first.
  body.replaceChildren(...rows.reverse())
  updateCount(rows.length)
}

function updateCount(visible) {
  $('empty').hidden = entries.size > 0
  $('count').textContent = `${visible} of ${entries.size} shown`
}

function add(entry) {
  if (entries.has(entry.id)) return
  entries.set(entry.id, entry)
  if (entries.size > MAX_ENTRIES) {
    const [oldest] = entries.keys()
    entries.delete(oldest)
    $('requests').tBodies[0].querySelector(`tr[data-id="${CSS.escape(oldest)}"]`)?.remove()
  }

  offerFilters(entry)
  if (!matches(entry)) return updateCount($('requests').tBodies[0].rows.length)
  const tr = row(entry)
  $('requests').tBodies[0].prepend(tr)
  updateCount($('requests').tBodies[0].rows.length)
}

async function getJson(path, options) {
  const response = await fetch(path, {cache: 'no-store', ...options})
  const body = await response.json().catch(() => undefined)
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`)
  return body
}

async function loadSources() {
  sources = await getJson('/api/sources')
}

function fact(list, name, value) {
  const dt = document.createElement('dt')
  dt.textContent = name
  const dd = document.createElement('dd')
  dd.textContent = value
  list.append(dt, dd)
}

function showHeaders(table, headers) {
  table.tBodies[0].replaceChildren(...headers.map(([name, value]) => {
    const tr = document.createElement('tr')
    tr.append(cell(name), cell(value))
    return tr
  }))
}

async function select(id) {
  selected = id
  for (const tr of $('requests').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.id === id)
  let request
  try {
    request = (await getJson(`/api/requests/${encodeURIComponent(id)}`)).request
  } catch (error) {
    if (selected !== id) return
    shown = undefined
    $('detail').hidden = false
    // Only the title, saying why: the request may have been dropped, or its endpoint removed.
    for (const child of $('detail').children) child.hidden = child.id !== 'detail-title'
    $('detail-title').textContent = error.message
    return
  }

  if (selected !== id) return
  shown = request
  $('detail').hidden = false
  for (const child of $('detail').children) child.hidden = false
  $('detail').scrollTop = 0
  $('detail-title').textContent = `${request.method} ${request.path}`
  const facts = $('detail-facts')
  facts.replaceChildren()
  fact(facts, 'Status', request.status === null ? 'no answer' : String(request.status))
  fact(facts, 'Where', sourceLabel(request.source))
  fact(facts, 'When', new Date(request.time).toISOString())
  fact(facts, 'First byte', duration(request.firstByteMs))
  fact(facts, 'Total', duration(request.durationMs))
  fact(facts, 'Sizes', `${size(request.bytesIn)} in, ${size(request.bytesOut)} out`)
  fact(facts, 'Visitor', request.visitor)
  fact(facts, 'Protocol', request.protocol)
  if (request.replayOf) fact(facts, 'Replay of', request.replayOf)
  fact(facts, 'Id', request.id)
  showHeaders($('request-headers'), request.requestHeaders)
  showHeaders($('response-headers'), request.responseHeaders)
  showBody($('request-body'), request.requestBody, request.requestHeaders)
  showBody($('response-body'), request.responseBody, request.responseHeaders)
  showReplay(request)
  showCurl(request)
}

function showReplay(request) {
  const text = request.requestBody ? textOf(bytesOf(request.requestBody)) : ''
  const editable = text !== undefined && !request.requestBody?.truncated
  $('replay-body').value = editable ? text : ''
  $('replay-body').disabled = !editable
  $('replay-edited').disabled = !editable
  $('replay-body').placeholder = editable ? 'The body to send instead (empty for none)' : 'This body is binary or was cut when recorded: it cannot be edited here.'
  setStatus($('replay-status'), '')
}

function showCurl(request) {
  const where = targetFor(request.source)
  const note = $('curl-note')
  if (!where) {
    $('curl').textContent = ''
    setStatus(note, 'The endpoint is gone: its target is not known any more.')
    return
  }

  const bytes = request.requestBody ? bytesOf(request.requestBody) : new Uint8Array()
  const body = bytes.length === 0 ? undefined : {text: textOf(bytes), base64: request.requestBody.base64}
  const {command, masked} = curlCommand(request, where, body)
  $('curl').textContent = command
  const notes = []
  if (masked.length > 0) notes.push(`${masked.join(', ')} left out: recorded masked.`)
  if (request.requestBody?.truncated) notes.push(`The body was cut at ${bytes.length} bytes when recorded.`)
  setStatus(note, notes.join(' '))
}

function setStatus(element, text, error = false) {
  element.textContent = text
  element.classList.toggle('error', error)
}

function base64Of(text) {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

async function replay(edited) {
  if (!shown) return
  const status = $('replay-status')
  setStatus(status, 'Replaying…')
  try {
    const body = edited ? {body: base64Of($('replay-body').value)} : {}
    const {request} = await getJson(`/api/requests/${encodeURIComponent(shown.id)}/replay`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
    })
    add(request)
    setStatus(status, `Replayed: ${request.status ?? 'no answer'} in ${duration(request.durationMs)}.`)
  } catch (error) {
    setStatus(status, `Replay failed: ${error.message}`, true)
  }
}

async function copyCurl() {
  try {
    await navigator.clipboard.writeText($('curl').textContent)
    setStatus($('curl-note'), 'Copied.')
  } catch {
    setStatus($('curl-note'), 'The browser refused the clipboard: select the command and copy it.', true)
  }
}

function follow() {
  const stream = new EventSource('/api/stream')
  stream.addEventListener('open', () => {
    $('connection').textContent = 'live'
    $('connection').className = 'connection live'
  })
  stream.addEventListener('error', () => {
    $('connection').textContent = 'disconnected: reconnecting…'
    $('connection').className = 'connection lost'
  })
  stream.addEventListener('snapshot', (event) => {
    entries.clear()
    for (const entry of JSON.parse(event.data).requests) entries.set(entry.id, entry)
    render()
  })
  stream.addEventListener('request', (event) => {
    const entry = JSON.parse(event.data)
    const known = entry.source.kind === 'tunnel' || sources.endpoints.some((e) => e.id === entry.source.id)
    if (known) add(entry)
    else void loadSources().finally(() => add(entry))
  })
}

for (const id of ['filter-source', 'filter-status', 'filter-method']) $(id).addEventListener('change', render)
$('filter-path').addEventListener('input', render)
$('filters').addEventListener('submit', (event) => event.preventDefault())
$('replay').addEventListener('click', () => void replay(false))
$('replay-edited').addEventListener('click', () => void replay(true))
$('copy-curl').addEventListener('click', () => void copyCurl())
await loadSources().catch(() => {})
follow()
