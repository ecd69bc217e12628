import Table from 'cli-table3'
import {colorEnabled} from './color.js'

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

/** A borderless table like `docker ps` prints; the header is bold only when colour is on. */
export function renderTable(head: string[], rows: string[][]): string {
  const bold = colorEnabled()
  const table = new Table({
    head: bold ? head.map((h) => `\u001B[1m${h}\u001B[22m`) : head,
    chars: BORDERLESS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  table.push(...rows)
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}
