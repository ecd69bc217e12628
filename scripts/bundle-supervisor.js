// Bundles the supervisor into dist/supervisor.js, the file the CLI spawns. Node loads one file
// faster than the many modules it is made of (docs/MEASUREMENTS.md), and every command that finds
// no supervisor waits for it to start. It sits next to dist/version.js, so that paths relative to the module still hold.
// Its entry also starts the password-checking worker threads, which run this same file.
import {build} from 'esbuild'

await build({
  entryPoints: ['dist/supervisor/entry.js'],
  outfile: 'dist/supervisor.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // conf is loaded only to write settings, which the supervisor never does: bundled, it would be parsed at every start.
  external: ['conf'],
  // For the CommonJS dependencies inside the ES module bundle.
  banner: {js: "import {createRequire} from 'node:module'; const require = createRequire(import.meta.url);"},
  logLevel: 'warning',
})
