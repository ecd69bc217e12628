/**
 * How the supervisor process is run, whoever runs it: the CLI's auto-spawn (client/connect.ts) or a
 * service manager (service/). One place, so that both run the same node, flags and entry.
 */
import {fileURLToPath} from 'node:url'

/** The file the supervisor runs, bundled into one (scripts/bundle-supervisor.js): its process's command line names it. */
export const SUPERVISOR_ENTRY = fileURLToPath(new URL('supervisor.js', import.meta.url))
/**
 * The supervisor lives long and mostly waits, holding many small objects. V8 grows its young
 * generation a long way when a burst of allocations survives (many tunnels started at once), and
 * never gives it back; a smaller cap keeps the supervisor smaller, and a cap too small slows the
 * proxy. docs/MEASUREMENTS.md has the figures this size was chosen on. The recorded requests of
 * every endpoint live long too: without --optimize-for-size V8 keeps the old generation reserved at
 * a multiple of what a burst of traffic left alive, long after the garbage is gone.
 */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size']
/**
 * Given to a supervisor that a service manager runs: it never exits for being idle, since the
 * manager would read that as the service having ended, and the endpoints it holds must stay up.
 */
export const NO_IDLE_EXIT_ARG = '--no-idle-exit'
