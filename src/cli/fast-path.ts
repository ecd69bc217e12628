import {VERSION} from '../version.js'
import {printJson, reportFailure} from './failure.js'
import type {Listing} from './listings.js'

const LISTINGS: Record<string, () => Promise<Listing<unknown>>> = {
  'tunnel list': async () => (await import('./listings.js')).tunnelListing(),
  'expose list': async () => (await import('./listings.js')).endpointListing(),
}

/**
 * The commands scripts and people run most, answered without loading oclif, which takes longer to
 * load than Node takes to start (docs/MEASUREMENTS.md), and which these do not need. bin/run.js runs
 * this from a bundle (scripts/bundle-fast-path.js), in which the lazy imports below stay lazy. Only
 * these exact forms are taken: `--version` (or `-v`), and `tunnel list` and `expose list`, each with
 * or without `--json`. Any other argument, --help included, goes to oclif, where the same commands are defined (for help and
 * the manifest) and run the same code. Resolves false when it did not take argv.
 */
export async function runFast(argv: string[]): Promise<boolean> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    // As oclif prints it.
    process.stdout.write(`tunnelctl/${VERSION} ${process.platform}-${process.arch} node-${process.version}\n`)
    return true
  }

  const json = argv.length === 3 && argv[2] === '--json'
  const listing = argv.length === 2 || json ? LISTINGS[`${argv[0]} ${argv[1]}`] : undefined
  if (!listing) return false
  try {
    const {value, text} = await listing()
    if (json) printJson(value)
    else process.stdout.write(`${text}\n`)
  } catch (error) {
    reportFailure(error as Error, json)
  }

  return true
}
