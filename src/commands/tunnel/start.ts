import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {portArg, timeoutFlag} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelStart extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL with a cloudflared quick tunnel.'
  static override description =
    'Starts `cloudflared tunnel --url http://localhost:<port>` under the supervisor and prints the URL once cloudflared has registered a connection. The port need not be listening yet. cloudflared is the one set as cloudflared.path, else the first on this command\'s PATH, else the copy `tunnelctl cloudflared install` put in place; when there is none, it is downloaded with consent (a question on a terminal, --install-cloudflared, or TUNNELCTL_INSTALL_CLOUDFLARED=1).'

  static override examples = [
    '<%= config.bin %> tunnel start 3000',
    '<%= config.bin %> tunnel start 8080 --timeout 60',
    '<%= config.bin %> tunnel start 3000 --install-cloudflared',
    'URL=$(<%= config.bin %> tunnel start 3000 --json | jq -r .url)',
  ]

  static override args = {
    port: portArg({description: 'local port to expose (1-65535)', required: true}),
  }

  static override flags = {
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<TunnelInfo & {warnings: string[]}> {
    const {args, flags} = await this.parse(TunnelStart)
    const {port} = args
    await ensureCloudflared(this, flags)
    const starting = connectSupervisor().then((client) => client.startTunnel({port, timeoutMs: flags.timeout, searchPath: callerSearchPath()}))
    const {tunnel, warnings} = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    this.log(`Forwarding ${tunnel.url} -> http://localhost:${port}`)
    return {...tunnel, warnings}
  }
}
