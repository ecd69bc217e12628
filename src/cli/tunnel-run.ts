/**
 * `tunnel run`: a held tunnel (see SupervisorClient.holdTunnel) watched in the foreground until a
 * signal, or kept around a command for as long as it runs. Each resolves with the exit status.
 */
import {constants} from 'node:os'
import type {HeldTunnel} from '../client/supervisor-client.js'
import {TunnelctlError} from '../errors.js'
import {runInForeground} from '../process/run.js'
import type {SupervisorEvent} from '../protocol/events.js'
import {formatEvent} from '../render/events.js'

/** What a person ends a foreground process with, and what a command is sent when tunnelctl gets it. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** The events of a held tunnel as they come: the last one, once the hold has ended, says why it did. */
export class TunnelWatch {
  last: SupervisorEvent | undefined

  constructor(private readonly print: (event: SupervisorEvent) => void = () => {}) {}

  readonly onEvent = (event: SupervisorEvent): void => {
    this.last = event
    this.print(event)
  }

  /** Why the hold ended without being released, for a person. */
  endedBecause(port: number): string {
    if (this.last?.type === 'tunnel.crashed') return `The tunnel on port ${port} crashed.`
    if (this.last?.type === 'tunnel.stopped') return `The tunnel on port ${port} was stopped by \`tunnelctl tunnel stop\` or the supervisor's stop.`
    return `Lost the connection to the supervisor: the tunnel on port ${port} is gone. See \`tunnelctl supervisor logs\`.`
  }
}

/**
 * Stays attached until SIGINT, SIGTERM or SIGHUP, which stop the tunnel (128 + the signal's number),
 * or until the tunnel ends by itself, a failure given to `fail` (exit 1). The watch prints what happens
 * to it meanwhile; request lines (`tunnel logs --follow`) are another stream of the same port, to
 * print beside it.
 */
export async function watchInForeground(held: HeldTunnel, watch: TunnelWatch, fail: (error: TunnelctlError) => void): Promise<number> {
  let stopListening = () => {}
  const signalled = new Promise<NodeJS.Signals>((resolve) => (stopListening = onSignals(resolve)))
  const outcome = await Promise.race([signalled, held.ended.then(() => undefined)]).catch((error: Error) => error)
  stopListening()
  if (typeof outcome !== 'string') {
    fail(outcome instanceof TunnelctlError ? outcome : new TunnelctlError('TUNNEL_FAILED', outcome?.message ?? watch.endedBecause(held.tunnel.port)))
    return 1
  }

  // A second signal does not wait for the supervisor: closing the connection stops the tunnel too.
  const stopForcing = onSignals((signal) => process.exit(exitStatusFor(signal)))
  await held.release()
  stopForcing()
  return exitStatusFor(outcome)
}

/**
 * Runs the command with TUNNEL_URL in its environment and this process's terminal, forwarding the
 * signals this process gets; when it ends, however it ends, stops the tunnel and gives its exit status
 * (128 + n for signal n; 127 or 126 when it could not be run, as a shell says). A tunnel that ends
 * meanwhile is reported by `warn`; the command keeps running.
 */
export async function runAroundCommand(held: HeldTunnel, watch: TunnelWatch, command: string[], warn: (message: string) => void): Promise<number> {
  const {url, port} = held.tunnel
  const [file, ...args] = command
  const child = await runInForeground(file, args, {env: {...process.env, TUNNEL_URL: url ?? ''}})
  const stopForwarding = onSignals((signal) => child.kill(signal))
  let running = true
  void held.ended.then(
    () => running && warn([`${watch.endedBecause(port)} The command keeps running.`, ...(watch.last ? [formatEvent(watch.last)] : [])].join('\n')),
    (error: Error) => running && warn(`${error.message} The command keeps running.`),
  )
  const end = await child.ended
  running = false
  stopForwarding()
  await held.release()
  if (end.notRun) {
    warn(`Could not run ${file}: ${end.notRun.message}`)
    return end.notRun.code === 'ENOENT' ? 127 : 126
  }

  return end.signal ? exitStatusFor(end.signal) : (end.exitCode ?? 1)
}

/** Calls `handler` with each of SIGNALS this process gets, instead of dying of it, until the returned function is called. */
function onSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of SIGNALS) process.on(signal, handler)
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler)
  }
}

/** As a shell reports a process that a signal ended. */
function exitStatusFor(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal]
}
