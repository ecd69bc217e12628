import {appendFileSync} from 'node:fs'
import {relative} from 'node:path'
import {expect} from 'vitest'
import {ROOT} from './cli.js'

export type Area = 'Faults' | 'Bad input' | 'Security'

/**
 * Notes what a reliability test saw (counts, times, sizes) for the table in docs/RELIABILITY.md.
 * Only `npm run reliability` collects them (it names the file in RELIABILITY_FIGURES); a plain
 * `npm test` checks the same properties and keeps nothing.
 */
export function recordFigure(area: Area, property: string, figure: string): void {
  const file = process.env.RELIABILITY_FIGURES
  if (!file) return
  const {currentTestName, testPath} = expect.getState()
  const test = `${relative(ROOT, testPath ?? '')} › ${currentTestName ?? ''}`
  appendFileSync(file, `${JSON.stringify({area, property, test, figure})}\n`)
}

/** Milliseconds, rounded for a table. */
export function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`
}

/** The median of some samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
