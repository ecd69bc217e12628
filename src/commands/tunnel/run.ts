import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {targetArg, timeoutFlag} from '../../cli/inputs.js'
import {refuseUrlFlagsWithJson, showUrl, showUrlFlags} from '../../cli/show-url.js'
import {runAroundCommand, TunnelWatch, watchInForeground} from '../../cli/tunnel-run.js'
import {startSupervisor} from '../../client/connect.js'
import {badInput, type TunnelctlError} from '../../errors.js'
import type {SupervisorEvent} from '../../protocol/events.js'
import {TARGET_FORMS} from '../../protocol/local-target.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import {formatEvent} from '../../render/events.js'

export default class TunnelRun extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL while this runs, or around a command.'
  static override description = [
    'Starts a quick tunnel as `tunnel start` does, under the supervisor (`tunnel list` shows it), and holds it: if tunnelctl ends, however it ends, the supervisor stops the tunnel, and a supervisor started for this run exits with it.',
    'Without a command, prints the URL and stays attached, printing what happens to the tunnel, until Ctrl-C (exit 130) or SIGTERM (143). With --json, the first line is the tunnel as `tunnel start --json` gives it, and each event a line after it (NDJSON).',
    "With a command after `--`, runs it with the URL in TUNNEL_URL and this terminal's stdin, stdout and stderr, sends it the SIGINT, SIGTERM and SIGHUP tunnelctl gets, stops the tunnel when it ends and exits with its exit status (128+n for signal n). tunnelctl's own lines go to stderr. A tunnel that fails to start runs nothing (exit 1); one that crashes while the command runs is reported on stderr.",
  ].join('\n\n')

  static override usage = ['<%= command.id %> TARGET [--timeout <seconds>] [--qr] [--open] [--json]', '<%= command.id %> TARGET [--timeout <seconds>] -- CMD [ARGS...]']

  static override examples = [
    '<%= config.bin %> tunnel run 3000',
    '<%= config.bin %> tunnel run 3000 -- npm run e2e',
    '<%= config.bin %> tunnel run http://localhost:5173 --qr',
    'npx --yes tunnelctl tunnel run 3000 --timeout 60 -- npx playwright test',
    '<%= config.bin %> tunnel run 3000 --json | jq -c .',
  ]

  static override strict = false

  static override args = {
    target: targetArg({description: `local port or URL to expose: ${TARGET_FORMS}`, required: true}),
  }

  static override flags = {
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
    ...showUrlFlags,
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<void> {
    const {args, flags, argv} = await this.parse(TunnelRun)
    refuseUrlFlagsWithJson(flags, this.jsonEnabled())
    const command = this.commandToRun(argv.length - 1)
    const {port, scheme} = args.target
    await ensureCloudflared(this, flags)
    const {client, started} = await startSupervisor()
    const watch = new TunnelWatch(command ? undefined : (event) => this.printEvent(event))
    const holding = client.holdTunnel({port, scheme, timeoutMs: flags.timeout, searchPath: callerSearchPath(), ...(started && {oneOff: true})}, watch.onEvent)
    const held = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, holding)
    const say = command ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => this.log(line)
    for (const warning of held.warnings) this.warnUser(warning)
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({...held.tunnel, warnings: held.warnings})}\n`)
    // Request lines are a second stream beside the held one; it ends with the run. Their renderer is
    // loaded before anything is said: once the URL is out, nothing waits on the disk until the watch
    // takes the signals, so that a Ctrl-C typed at the prompt is the watch's to handle.
    const requestLines = new AbortController()
    const formatRequest = !command && !this.jsonEnabled() && !held.tunnel.direct ? (await import('../../render/requests.js')).formatRequest : undefined
    const forwarding = `Forwarding ${held.tunnel.url} -> ${scheme}://localhost:${port}`
    await showUrl({log: say, warn: (message) => this.warnUser(message)}, forwarding, held.tunnel.url, flags)
    if (formatRequest) void client.followRequests({kind: 'tunnel', port}, 1, (request) => this.log(formatRequest(request)), requestLines.signal).catch(() => {})
    if (!command) say('Ctrl-C stops it.')

    const status = command
      ? await runAroundCommand(held, watch, command, (message) => this.warnUser(message))
      : await watchInForeground(held, watch, (error) => this.failAfterStart(error))
    requestLines.abort()
    this.exit(status)
  }

  /** Once lines have been printed: with --json, as one more line (NDJSON), not as a document of its own. */
  private failAfterStart(error: TunnelctlError): void {
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({error: {code: error.code, message: error.message}})}\n`)
    else process.stderr.write(`Error: ${error.message}\n`)
  }

  /**
   * The command after `--`, or undefined without one. `extraWords`, the words oclif took besides the
   * port, must be the command's: any other was given before `--` (or the port after it).
   */
  private commandToRun(extraWords: number): string[] | undefined {
    const dashes = this.argv.indexOf('--')
    const command = dashes === -1 ? [] : this.argv.slice(dashes + 1)
    if (extraWords !== command.length) {
      throw badInput(`Put \`--\` before the command to run: \`tunnelctl tunnel run <port> -- <command> [args...]\`.`)
    }

    if (dashes === -1) return undefined
    if (command.length === 0) throw badInput('Nothing follows `--`: give the command to run after it, or leave `--` out to stay in the foreground.')
    if (this.jsonEnabled()) {
      throw badInput('--json is for `tunnel run` without a command: with one, stdout is the command\'s, and it gets the URL in $TUNNEL_URL.')
    }

    return command
  }

  private printEvent(event: SupervisorEvent): void {
    process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(event) : formatEvent(event)}\n`)
  }
}
