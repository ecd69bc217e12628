/**
 * How the supervisor process is run, whoever runs it: the CLI's auto-spawn (client/connect.ts) or a
 * service manager (service/). One place, so that both run the same node, flags and entry.
 */
import {fileURLToPath} from 'node:url'

/** The file the supervisor runs, bundled into one (scripts/bundle-supervisor.js): its process's command line names it. */
export const SUPERVISOR_ENTRY = fileURLToPath(new URL('supervisor.js', import.meta.url))
/**
 * The supervisor lives long and mostly waits, holding many small objects. V8 grows its young
 * generation up to 16 MiB a semi-space when a burst of allocations survives (100 tunnels started at
 * once), and never gives it back. At 4 MiB the supervisor with 100 tunnels and 100 endpoints stays
 * some 6 MB smaller and the proxy loses nothing; at 2 MiB it lost a fifth of its throughput.
 */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=4']
/**
 * Given to a supervisor that a service manager runs: it never exits for being idle, since the
 * manager would read that as the service having ended, and the endpoints it holds must stay up.
 */
export const NO_IDLE_EXIT_ARG = '--no-idle-exit'
