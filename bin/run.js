#!/usr/bin/env node
import {runFast} from '../dist/cli/fast-path.js'

// The commands run most are answered before oclif is even loaded (see src/cli/fast-path.ts).
const argv = process.argv.slice(2)
if (!(await runFast(argv))) {
  const {runOclif} = await import('../dist/cli/run-oclif.js')
  await runOclif(argv, import.meta.url)
}
