const BAR_WIDTH = 30
// Redrawn at most this often: a fast link delivers thousands of pieces a second.
const REDRAW_MS = 100

/** 38.4 MB: decimal units, as GitHub shows sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB']
  let value = bytes
  let unit = -1
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }

  return `${value.toFixed(1)} ${units[unit]}`
}

export interface DownloadProgress {
  update(received: number, total: number): void
  /** The download is over, well (verified) or not: a terminal's bar line is ended, and a log gets its one line. */
  done(verified: boolean): void
}

/**
 * A progress bar on a terminal, redrawn in place; anywhere else (a CI log) nothing until the end and
 * then one line, since a log would keep every redraw.
 */
export function downloadProgress(name: string, stream: NodeJS.WriteStream = process.stderr): DownloadProgress {
  let lastDraw = 0
  let received = 0
  let total = 0
  const draw = () => {
    const share = total > 0 ? Math.min(received / total, 1) : 0
    const filled = Math.round(share * BAR_WIDTH)
    stream.write(`\r${name} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(share * 100)}% ${formatBytes(received)}/${formatBytes(total)}`)
  }

  return {
    update(got, of) {
      received = got
      total = of
      if (!stream.isTTY) return
      const now = Date.now()
      if (now - lastDraw < REDRAW_MS && got < of) return
      lastDraw = now
      draw()
    },
    done(verified) {
      if (stream.isTTY) {
        if (lastDraw > 0) stream.write('\n')
      } else if (verified) {
        stream.write(`Downloaded ${name} (${formatBytes(received)}), sha256 verified.\n`)
      }
    },
  }
}
