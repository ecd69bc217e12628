import Table from 'cli-table3'
import stringWidth from 'string-width'
import {colorEnabled} from './color.js'

const GAP = '  '
// Borderless, as `docker ps` prints: no rules, columns two spaces apart.
const CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: GAP,
}
// No head or border colours: with none, cli-table3 never loads its colour package. Compact: no rule
// between rows, which borderless would draw as an empty line for every row and then drop.
const STYLE = {head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true}

/**
 * A table laid out by cli-table3, which measures every cell as a terminal shows it (wide and emoji
 * characters take two columns). Piped, or on a terminal wide enough, each column is as wide as its
 * widest cell. On a narrower terminal the columns are narrowed and their text wrapped between words,
 * none narrower than its longest word: an id or a URL is never cut, prose gives way. The header is
 * bold only when colour is on.
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
  const longestWords = head.map((h, column) => Math.max(...[h, ...rows.map((row) => row[column])].flatMap((cell) => cell.split(/\s+/).map(stringWidth))))
  return trimLines(layOut({colWidths: narrowed(natural.widths, longestWords, width), wordWrap: true}).text)
}

/**
 * The widths that fit `width` as well as the longest words allow: the room is shared among the
 * columns, narrowest first; each keeps its width if that is within its share and leaves the rest to
 * the wider ones.
 */
function narrowed(widths: number[], longestWords: number[], width: number): number[] {
  const fitted = [...widths]
  let room = width - GAP.length * (widths.length - 1)
  const narrowestFirst = widths.map((_, column) => column).sort((a, b) => widths[a] - widths[b])
  for (const [i, column] of narrowestFirst.entries()) {
    const share = Math.floor(room / (narrowestFirst.length - i))
    fitted[column] = Math.min(widths[column], Math.max(longestWords[column], share))
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
