import Table from 'cli-table3'
import {colorEnabled} from './color.js'

const GAP = '  '
// Borderless, as `docker ps` prints: no rules, columns two spaces apart.
const CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: GAP,
}
// No head or border colours: with none, cli-table3 never loads its colour package.
const STYLE = {head: [], border: [], 'padding-left': 0, 'padding-right': 0}

/**
 * A table laid out by cli-table3, which measures every cell as a terminal shows it (wide and emoji
 * characters take two columns). Piped, or on a terminal wide enough, each column is as wide as its
 * widest cell. On a narrower terminal the columns of several words (descriptions, values) are
 * narrowed and wrapped; a column of single words (ids, ports, URLs) keeps its width, since it could
 * only be cut. The header is bold only when colour is on.
 */
export function renderTable(head: string[], rows: string[][], width = terminalWidth()): string {
  const title = colorEnabled() ? (h: string) => `\u001B[1m${h}\u001B[22m` : (h: string) => h
  const layOut = (fitted: Table.TableConstructorOptions = {}) => {
    const table = new Table({head: head.map(title), chars: CHARS, style: STYLE, ...fitted})
    table.push(...rows)
    return {text: table.toString(), widths: table.options.colWidths.map(Number)}
  }

  const natural = layOut()
  if (width === undefined || lineWidth(natural.widths) <= width) return trimLines(natural.text)
  const wrapping = head.map((_, column) => column).filter((column) => rows.some((row) => /\s/.test(row[column])))
  return trimLines(layOut({colWidths: narrowed(natural.widths, head, wrapping, width), wordWrap: true}).text)
}

/**
 * The widths that fit `width`: the room the other columns leave is shared among the wrapping ones,
 * narrowest first, none narrower than its title. Each keeps its width if that is within its share,
 * and leaves the rest to the wider ones.
 */
function narrowed(widths: number[], head: string[], wrapping: number[], width: number): number[] {
  const fitted = [...widths]
  let room = width - lineWidth(widths) + wrapping.reduce((sum, column) => sum + widths[column], 0)
  const narrowestFirst = [...wrapping].sort((a, b) => widths[a] - widths[b])
  for (const [i, column] of narrowestFirst.entries()) {
    const share = Math.floor(room / (narrowestFirst.length - i))
    fitted[column] = Math.min(widths[column], Math.max(head[column].length, share))
    room -= fitted[column]
  }

  return fitted
}

function lineWidth(widths: number[]): number {
  return widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1)
}

function trimLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  return stream.isTTY ? stream.columns : undefined
}
