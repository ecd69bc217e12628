#!/usr/bin/env node
// CommonJS (bin/package.json), as is the bundle it requires: starting Node's ES module loader takes
// time that the commands answered here are measured against.
const {runFast} = require('../dist/fast-path.cjs')

// The commands run most are answered before oclif is even loaded (see src/cli/fast-path.ts).
runFast(process.argv.slice(2)).then(async (taken) => {
  if (taken) return
  const {execute} = await import('@oclif/core')
  // The package's root: bin/ has a package.json of its own, which names no package.
  await execute({dir: require('node:path').dirname(__dirname)})
})
