#!/usr/bin/env node
import {runFast} from '../dist/cli/fast-path.js'

// The commands run most are answered before oclif is even loaded (see src/cli/fast-path.ts).
if (!(await runFast(process.argv.slice(2)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
