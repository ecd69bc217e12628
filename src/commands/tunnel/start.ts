import {TunnelctlCommand} from '../../cli/base-command.js'
import {portArg, timeoutFlag} from '../../cli/inputs.js'
import {refuseUrlFlagsWithJson, showUrlFlags} from '../../cli/show-url.js'
import {connectSupervisor} from '../../client/connect.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelStart extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL with a cloudflared quick tunnel.'
  static override description =
    'Starts `cloudflared tunnel --url http://localhost:<port>` under the supervisor and prints the URL once cloudflared has registered a connection. The port need not be listening yet. cloudflared is looked for on this command\'s PATH.'

  static override examples = [
    '<%= config.bin %> tunnel start 3000',
    '<%= config.bin %> tunnel start 8080 --timeout 60',
    'URL=$(<%= config.bin %> tunnel start 3000 --json | jq -r .url)',
    '<%= config.bin %> tunnel start 5173 --qr --open',
  ]

  static override args = {
    port: portArg({description: 'local port to expose (1-65535)', required: true}),
  }

  static override flags = {
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
    ...showUrlFlags,
  }

  async run(): Promise<TunnelInfo & {warnings: string[]}> {
    const {args, flags} = await this.parse(TunnelStart)
    refuseUrlFlagsWithJson(flags, this.jsonEnabled())
    const {port} = args
    const starting = connectSupervisor().then((client) => client.startTunnel({port, timeoutMs: flags.timeout, searchPath: callerSearchPath()}))
    const {tunnel, warnings} = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    await this.showUrl(`Forwarding ${tunnel.url} -> http://localhost:${port}`, tunnel.url, flags)
    return {...tunnel, warnings}
  }
}
