// Bundles the supervisor into dist/supervisor.js, the file the CLI spawns, and execa for the CLI.
// Node loads one file faster than the many modules it is made of (docs/MEASUREMENTS.md), and every
// command that finds no supervisor waits for it to start. It sits next to dist/version.js, so that paths relative to the module still hold.
// Its entry also starts the password-checking worker threads, which run this same file.
import {build} from 'esbuild'

// For the CommonJS dependencies inside an ES module bundle.
const requireBanner = {js: "import {createRequire} from 'node:module'; const require = createRequire(import.meta.url);"}

await build({
  entryPoints: ['dist/supervisor/entry.js'],
  outfile: 'dist/supervisor.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // conf is loaded only to write settings, which the supervisor never does: bundled, it would be parsed at every start.
  external: ['conf'],
  // execa likewise, until the first child: it stays the file bundled below, loaded from beside this one.
  plugins: [{name: 'execa-beside', setup: (b) => b.onResolve({filter: /\/execa\.js$/}, () => ({path: './process/execa.js', external: true}))}],
  banner: requireBanner,
  logLevel: 'warning',
})

// execa, as the CLI and the supervisor load it (src/process/execa.ts) when they first spawn: one file
// instead of some forty modules.
await build({
  entryPoints: ['dist/process/execa.js'],
  outfile: 'dist/process/execa.js',
  allowOverwrite: true,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: requireBanner,
  logLevel: 'warning',
})
