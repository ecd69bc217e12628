import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../cli/base-command.js'
import {connectSupervisor} from '../client/connect.js'
import type {InspectorReply} from '../protocol/inspector.js'

export default class Inspect extends TunnelctlCommand {
  static override summary = 'Open the web inspector: every request through your tunnels and endpoints, live, with replay.'
  static override description = [
    'Prints the URL of the inspector, a page served by the supervisor on 127.0.0.1 (setting inspect.port, default any free port), and on a terminal opens it in your browser. ' +
      'The page lists the requests as they arrive (filter by tunnel or endpoint, status, method and path), shows their headers, bodies (text, JSON or hex) and timing, replays them, with an edited body if you like, and copies them as curl commands.',
    'Any local user can reach a port on 127.0.0.1, so the inspector lets in only a browser that came through a URL this command printed: its token works once, and a cookie keeps that browser in. Anything else gets 401. Run the command again for a URL for another browser.',
    'Starts the supervisor if none runs: the inspector lives in it, and shows what comes through from then on.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> inspect', '<%= config.bin %> inspect --no-open', 'URL=$(<%= config.bin %> inspect --json | jq -r .url)']

  static override flags = {
    open: Flags.boolean({default: true, allowNo: true, description: 'open the URL in your browser (only when stdout is a terminal)'}),
  }

  async run(): Promise<InspectorReply> {
    const {flags} = await this.parse(Inspect)
    const client = await connectSupervisor()
    const inspector = await client.openInspector()
    this.log(`Inspector: ${inspector.url}`)
    if (flags.open && process.stdout.isTTY && !this.jsonEnabled()) await this.openInBrowser(inspector.url)
    return inspector
  }

  private async openInBrowser(url: string): Promise<void> {
    try {
      // Loaded only here: most commands never open anything.
      const {default: open} = await import('open')
      const opener = await open(url)
      opener.once('error', () => this.warnUser('Could not open a browser; open the URL above yourself.'))
    } catch {
      this.warnUser('Could not open a browser; open the URL above yourself.')
    }
  }
}
