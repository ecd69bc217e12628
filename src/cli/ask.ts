import {createInterface} from 'node:readline/promises'

/**
 * Asks a yes/no question on stderr and reads the answer from stdin: Enter means yes, as [Y/n] says.
 * Asked again on an answer that is neither; no when stdin ends without one.
 */
export async function askYesNo(question: string): Promise<boolean> {
  const terminal = createInterface({input: process.stdin, output: process.stderr})
  const ended = new Promise<string>((resolve) => terminal.once('close', () => resolve('n')))
  try {
    for (;;) {
      const answer = (await Promise.race([terminal.question(question), ended])).trim().toLowerCase()
      if (answer === '' || answer === 'y' || answer === 'yes') return true
      if (answer === 'n' || answer === 'no') return false
    }
  } finally {
    terminal.close()
  }
}
