// What a run found: a plain table for people, and bench/results.json as the record.
import {writeFileSync} from 'node:fs'
import {arch, cpus, loadavg, platform, totalmem} from 'node:os'

const COLUMNS = ['metric', 'median', 'p90', 'p99', 'baseline', 'ratio', 'target', 'met']

/** Ratio to the baseline's median, and whether the target is met, from what a section measured. */
export function judge(row) {
  // A baseline of 0 (a latency below autocannon's 1 ms resolution) gives no ratio. A row measured in
  // pairs brings its own: the median of the pairs' ratios.
  const ratio = row.ratio ?? (row.baseline?.stats.median ? row.stats.median / row.baseline.stats.median : undefined)
  const {target} = row
  let met
  if (row.met !== undefined) met = row.met
  else if (target?.max !== undefined) met = row.stats.median <= target.max
  else if (target?.maxRatio !== undefined) met = ratio <= target.maxRatio
  else if (target?.minRatio !== undefined) met = ratio >= target.minRatio
  return {...row, ratio, met}
}

export function machine() {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()}/${arch()}`,
    // The machine is shared: what else ran shows here.
    loadAverage1mAtStart: loadavg()[0],
  }
}

export function writeResults(file, results) {
  // Microseconds are below what any of this can tell apart.
  const rounded = (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value)
  writeFileSync(file, `${JSON.stringify(results, rounded, 2)}\n`)
}

export function renderTable(rows) {
  const cells = rows.map((row) => {
    if (row.error) return [row.metric, `failed: ${row.error}`, '', '', '', '', '', 'no']
    const value = (n) => (n === undefined ? '' : format(n, row.unit))
    return [
      row.metric,
      value(row.stats.median),
      value(row.stats.p90),
      value(row.stats.p99),
      row.baseline ? `${format(row.baseline.stats.median, row.unit)} (${row.baseline.label})` : '',
      row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
      describeTarget(row),
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    ]
  })
  return aligned(COLUMNS, cells)
}

function aligned(header, cells) {
  const widths = header.map((name, i) => Math.max(name.length, ...cells.map((line) => line[i].length)))
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

function describeTarget({target, unit}) {
  if (!target) return ''
  if (target.max !== undefined) return `<= ${format(target.max, unit)}`
  if (target.maxRatio !== undefined) return `<= ${target.maxRatio.toFixed(2)}x`
  return `>= ${target.minRatio.toFixed(2)}x`
}

function format(n, unit) {
  if (unit === 'req/s') return `${Math.round(n)} req/s`
  if (unit === 'MiB/s') return `${Math.round(n)} MiB/s`
  if (unit === 'MB') return `${n.toFixed(1)} MB`
  if (unit.startsWith('instr/')) return `${Math.round(n).toLocaleString('en-US')} instr`
  if (unit === 'ratio') return `${n.toFixed(3)}x`
  // autocannon's latencies come in whole milliseconds: 0 means under one.
  if (n === 0) return '<1 ms'
  return `${n.toFixed(n < 10 ? 2 : 1)} ms`
}

/**
 * The proxies side by side, as the issue that asked for them tabulates them: per load, each one's
 * ratio to direct in the same rounds and the CPU it spent per request, and whether tunnelctl met its
 * target (Caddy's ratio, and 0.7 of nginx's).
 */
export function renderComparison(rows) {
  const compared = rows.filter((row) => row.comparison)
  const proxies = [...new Set(compared.map((row) => row.comparison.proxy))]
  const loads = [...new Set(compared.map((row) => row.comparison.row))]
  const header = ['row', ...proxies, 'target', 'met']
  const cells = loads.map((load) => {
    const of = (proxy) => compared.find((row) => row.comparison.row === load && row.comparison.proxy === proxy)
    const tunnelctl = of('tunnelctl')
    return [
      load,
      ...proxies.map((proxy) => {
        const row = of(proxy)
        return row ? `${row.ratio.toFixed(2)} (${cpu(row.cpuUs)})` : ''
      }),
      tunnelctl?.target ? `>= ${tunnelctl.target.minRatio.toFixed(2)}` : '',
      tunnelctl?.met === undefined ? '' : tunnelctl.met ? 'yes' : 'NO',
    ]
  })
  return aligned(header, cells)
}

/** CPU per request (per round trip, or per download), in the unit that keeps it short. */
function cpu(us) {
  if (us === undefined || Number.isNaN(us)) return 'CPU ?'
  return us >= 10_000 ? `${(us / 1e6).toFixed(2)} s CPU` : `${Math.round(us)} µs CPU`
}
