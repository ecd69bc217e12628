import type {CheckStatus} from '../doctor/check.js'
import type {DoctorReport} from '../doctor/index.js'
import {colorEnabled} from './color.js'

const STATUS_WIDTH = 'problem'.length + 2
const FIX_LABEL = 'fix: '
const COLOUR: Record<CheckStatus, number> = {ok: 32, warn: 33, problem: 31}

/** One line a check, `<status>  <id>: <summary>`, each fix indented below its check, then the totals. */
export function renderDoctorReport({checks, problems, warnings}: DoctorReport): string {
  const colour = colorEnabled()
  const lines = checks.flatMap((check) => {
    const padding = ' '.repeat(STATUS_WIDTH - check.status.length)
    const status = colour ? `\u001B[${COLOUR[check.status]}m${check.status}\u001B[39m` : check.status
    const head = `${status}${padding}${check.id}: ${check.summary}`
    if (check.status === 'ok') return [head]
    // A fix of several lines (install instructions) keeps its own indentation, under the first line's text.
    const [first, ...rest] = check.fix.split('\n')
    const indent = ' '.repeat(STATUS_WIDTH)
    return [head, `${indent}${FIX_LABEL}${first}`, ...rest.map((line) => `${indent}${' '.repeat(FIX_LABEL.length)}${line}`)]
  })
  const totals = `${total(problems, 'problem')}, ${total(warnings, 'warning')}.`
  return [...lines, '', `${totals[0].toUpperCase()}${totals.slice(1)}`].join('\n')
}

function total(n: number, noun: string): string {
  return `${n === 0 ? 'no' : n} ${noun}${n === 1 ? '' : 's'}`
}
