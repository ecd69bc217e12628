/**
 * The one import of execa. The build replaces this module's output with execa bundled into one file
 * (scripts/bundle-supervisor.js): the command that starts a supervisor loads execa on its way, and one
 * file loads in a fraction of the time its forty modules take.
 */
export {execa} from 'execa'
export type {ResultPromise} from 'execa'
