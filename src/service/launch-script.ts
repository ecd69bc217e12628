import {NO_IDLE_EXIT_ARG, SUPERVISOR_ENTRY, SUPERVISOR_NODE_FLAGS} from '../supervisor-launch.js'

/** What a service manager needs to run the supervisor as the CLI's auto-spawn would. */
export interface ServiceLaunch {
  node: string
  runtimeDir: string
  supervisorLog: string
  /** Variables the supervisor must see as the installing command saw them; undefined ones are unset. */
  environment: Record<string, string | undefined>
}

/**
 * The variables that decide where the supervisor's socket and files are (paths.ts), and PATH, where it
 * finds cloudflared and tailscale. A service manager starts from an environment of its own: without
 * them the service's supervisor would listen where no command looks, and the CLI would start a second.
 */
export const CARRIED_VARIABLES = ['PATH', 'TUNNELCTL_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR'] as const

/**
 * The shell command a service runs. The runtime dir may be gone after a reboot (it is on a tmpfs under
 * XDG_RUNTIME_DIR), so the script makes it before it opens the log there; `exec` leaves the supervisor
 * as the service's main process, so the manager sees its exit status and signals it directly.
 */
export function renderLaunchScript({node, runtimeDir, supervisorLog, environment}: ServiceLaunch): string {
  const entries = Object.entries(environment)
  const set = entries.filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${shellQuote(value!)}`)
  const unset = entries.filter(([, value]) => value === undefined).map(([name]) => name)
  const command = [node, ...SUPERVISOR_NODE_FLAGS, SUPERVISOR_ENTRY, NO_IDLE_EXIT_ARG].map(shellQuote).join(' ')
  return [
    'umask 077',
    `mkdir -p ${shellQuote(runtimeDir)}`,
    `cd ${shellQuote(runtimeDir)}`,
    set.length > 0 && `export ${set.join(' ')}`,
    unset.length > 0 && `unset ${unset.join(' ')}`,
    `exec ${command} >>${shellQuote(supervisorLog)} 2>&1`,
  ]
    .filter(Boolean)
    .join(' && ')
}

/** Always single-quoted: the script is read by sh alone, and must mean the same whatever the text holds. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}
