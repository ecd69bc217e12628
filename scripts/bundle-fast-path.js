// Bundles the fast path (src/cli/fast-path.ts: `--version`, `tunnel list`, `expose list`) into one
// CommonJS file, dist/fast-path.cjs, which bin/run.js (CommonJS too, see bin/package.json) requires.
// Those commands are timed against a bare Node start (`npm run bench`): as ES modules they would
// spend much of that starting Node's ES module loader, then finding, reading and compiling some
// twenty files and four packages one by one. What only some answers need (the tables with
// cli-table3, the endpoint files) is still run only when it is needed: esbuild keeps each module
// that is imported lazily, and each CommonJS package, behind a function called on first use.
import {build} from 'esbuild'

await build({
  entryPoints: ['dist/cli/fast-path.js'],
  outfile: 'dist/fast-path.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // version.js reads the package.json beside dist/ relative to its module, which here is this file.
  define: {'import.meta.url': 'importMetaUrl'},
  banner: {js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  logLevel: 'warning',
})
