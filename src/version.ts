import {readFileSync} from 'node:fs'

/** The package version; client and supervisor compare it on every request. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
