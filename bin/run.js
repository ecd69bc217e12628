#!/usr/bin/env node
// CommonJS (bin/package.json), as is the bundle it requires: starting Node's ES module loader takes
// time that the commands answered here are measured against.
const {runFast} = require('../dist/fast-path.cjs')

// The commands run most are answered before oclif is even loaded (see src/cli/fast-path.ts).
const argv = process.argv.slice(2)
runFast(argv).then(async (taken) => {
  if (taken) return
  const {runOclif} = await import('../dist/cli/run-oclif.js')
  // The package's root: bin/ has a package.json of its own, which names no package.
  await runOclif(argv, require('node:path').dirname(__dirname))
})
