import {flush, handle, run} from '@oclif/core'
import {reportFailure} from './failure.js'

/**
 * Runs argv through oclif. Our commands report their own failures (see base-command.ts); what fails
 * around them (an unknown command, a plugin's command, help for a command that does not exist) is
 * reported the same way here, as one JSON document on stdout with --json.
 */
export async function runOclif(argv: string[], dir: string): Promise<void> {
  try {
    await run(argv, dir)
    await flush()
  } catch (error) {
    const failure = error as Error & {code?: string; oclif?: {exit?: number}}
    // this.exit() works by throwing: oclif ends the process with its status.
    if (failure.code === 'EEXIT') await handle(failure)
    else reportFailure(failure, argv.includes('--json'))
  }
}
