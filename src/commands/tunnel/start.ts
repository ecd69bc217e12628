import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {targetArg, timeoutFlag} from '../../cli/inputs.js'
import {refuseUrlFlagsWithJson, showUrlFlags} from '../../cli/show-url.js'
import {connectSupervisor} from '../../client/connect.js'
import {TARGET_FORMS} from '../../protocol/local-target.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'
import {renderCredentials} from '../../render/password.js'

export default class TunnelStart extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL with a cloudflared quick tunnel.'
  static override description =
    `Starts a cloudflared quick tunnel under the supervisor and prints its URL once cloudflared has registered a connection. The target may be written ${TARGET_FORMS}; an https one (a local dev server with its own certificate) is reached without verifying its certificate, with a warning. Either way the tunnel is named by its port in \`tunnel list\` and \`tunnel stop\`. The port need not be listening yet. Visitors reach the port through the supervisor's local proxy, which asks them for a password with --auth and sees every request; --direct points cloudflared at the port itself instead, without either. cloudflared is the one set as cloudflared.path, else the first on this command's PATH, else the copy \`tunnelctl cloudflared install\` put in place; when there is none, it is downloaded with consent (a question on a terminal, --install-cloudflared, or TUNNELCTL_INSTALL_CLOUDFLARED=1).`

  static override examples = [
    '<%= config.bin %> tunnel start 3000',
    '<%= config.bin %> tunnel start http://localhost:5173',
    '<%= config.bin %> tunnel start https://localhost:8443',
    '<%= config.bin %> tunnel start 3000 --auth',
    '<%= config.bin %> tunnel start 3000 --direct',
    '<%= config.bin %> tunnel start 8080 --timeout 60',
    '<%= config.bin %> tunnel start 3000 --install-cloudflared',
    'URL=$(<%= config.bin %> tunnel start 3000 --json | jq -r .url)',
    '<%= config.bin %> tunnel start 5173 --qr --open',
  ]

  static override args = {
    target: targetArg({description: `local port or URL to expose: ${TARGET_FORMS}`, required: true}),
  }

  static override flags = {
    auth: Flags.boolean({description: 'require Basic auth (user tunnelctl, a new random password shown once)', exclusive: ['direct']}),
    direct: Flags.boolean({description: 'cloudflared straight to the port, past the local proxy: no --auth', exclusive: ['auth']}),
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
    ...showUrlFlags,
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<TunnelInfo & {password?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(TunnelStart)
    refuseUrlFlagsWithJson(flags, this.jsonEnabled())
    const {port, scheme} = args.target
    await ensureCloudflared(this, flags)
    const request = {port, scheme, timeoutMs: flags.timeout, searchPath: callerSearchPath(), ...(flags.direct && {direct: true}), ...(flags.auth && {auth: true})}
    const starting = connectSupervisor().then((client) => client.startTunnel(request))
    const {tunnel, warnings, password} = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    await this.showUrl(`Forwarding ${tunnel.url} -> ${scheme}://localhost:${port}${tunnel.direct ? ' (direct)' : ''}`, tunnel.url, flags)
    if (password === undefined) return {...tunnel, warnings}
    this.log(renderCredentials(password, `\`tunnelctl tunnel stop ${port}\` and \`tunnelctl tunnel start ${port} --auth\` make a new one, and a new URL`))
    return {...tunnel, password, warnings}
  }
}
