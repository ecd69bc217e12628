import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {targetArg, timeoutFlag} from '../../cli/inputs.js'
import {refuseUrlFlagsWithJson, showUrlFlags} from '../../cli/show-url.js'
import {connectSupervisor} from '../../client/connect.js'
import {TARGET_FORMS} from '../../protocol/local-target.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'

export default class TunnelStart extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL with a cloudflared quick tunnel.'
  static override description =
    `Starts \`cloudflared tunnel --url http://localhost:<port>\` under the supervisor and prints the URL once cloudflared has registered a connection. The target may be written ${TARGET_FORMS}; an https one (a local dev server with its own certificate) gets \`--url https://localhost:<port> --no-tls-verify\`, with a warning that its certificate is not verified. Either way the tunnel is named by its port in \`tunnel list\` and \`tunnel stop\`. The port need not be listening yet. cloudflared is the one set as cloudflared.path, else the first on this command's PATH, else the copy \`tunnelctl cloudflared install\` put in place; when there is none, it is downloaded with consent (a question on a terminal, --install-cloudflared, or TUNNELCTL_INSTALL_CLOUDFLARED=1).`

  static override examples = [
    '<%= config.bin %> tunnel start 3000',
    '<%= config.bin %> tunnel start http://localhost:5173',
    '<%= config.bin %> tunnel start https://localhost:8443',
    '<%= config.bin %> tunnel start 8080 --timeout 60',
    '<%= config.bin %> tunnel start 3000 --install-cloudflared',
    'URL=$(<%= config.bin %> tunnel start 3000 --json | jq -r .url)',
    '<%= config.bin %> tunnel start 5173 --qr --open',
  ]

  static override args = {
    target: targetArg({description: `local port or URL to expose: ${TARGET_FORMS}`, required: true}),
  }

  static override flags = {
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
    ...showUrlFlags,
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<TunnelInfo & {warnings: string[]}> {
    const {args, flags} = await this.parse(TunnelStart)
    refuseUrlFlagsWithJson(flags, this.jsonEnabled())
    const {port, scheme} = args.target
    await ensureCloudflared(this, flags)
    const starting = connectSupervisor().then((client) => client.startTunnel({port, scheme, timeoutMs: flags.timeout, searchPath: callerSearchPath()}))
    const {tunnel, warnings} = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    await this.showUrl(`Forwarding ${tunnel.url} -> ${scheme}://localhost:${port}`, tunnel.url, flags)
    return {...tunnel, warnings}
  }
}
