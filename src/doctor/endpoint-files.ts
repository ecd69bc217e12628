import {EndpointStore} from '../endpoint-store.js'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

/** Every endpoint file reads as the supervisor reads it; a broken one is not served, and is named here. */
export async function checkEndpointFiles(dir: string): Promise<Check[]> {
  const read = await new EndpointStore(dir).readAll().catch((error: Error) => error)
  if (read instanceof Error) {
    return [
      {
        id: 'endpoint-files',
        status: 'problem',
        summary: `${dir} cannot be read: ${read.message}`,
        fix: `Make it a directory of yours, mode 0700: chmod 700 ${shellWord(dir)}`,
      },
    ]
  }

  const {records, broken} = read
  if (broken.length === 0) {
    const summary = records.length === 0 ? 'none yet' : `${records.length} endpoint file${records.length === 1 ? '' : 's'}, all valid`
    return [{id: 'endpoint-files', status: 'ok', summary}]
  }

  return broken.map(({file, reason}) => ({
    id: 'endpoint-files',
    status: 'problem',
    summary: `${file} is not served: ${reason}`,
    fix: `Correct it, or delete it: rm ${shellWord(file)}`,
  }))
}
