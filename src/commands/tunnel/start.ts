import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {portArg, timeoutFlag} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import type {TunnelInfo} from '../../protocol/tunnels.js'
import {renderCredentials} from '../../render/password.js'

export default class TunnelStart extends TunnelctlCommand {
  static override summary = 'Put a local port on a public https URL with a cloudflared quick tunnel.'
  static override description =
    'Starts a cloudflared quick tunnel under the supervisor and prints its URL once cloudflared has registered a connection. The port need not be listening yet. cloudflared is looked for on this command\'s PATH. Visitors reach the port through the supervisor\'s local proxy, which asks them for a password with --auth and sees every request; --direct points cloudflared at the port itself instead, without either.'

  static override examples = [
    '<%= config.bin %> tunnel start 3000',
    '<%= config.bin %> tunnel start 3000 --auth',
    '<%= config.bin %> tunnel start 3000 --direct',
    '<%= config.bin %> tunnel start 8080 --timeout 60',
    'URL=$(<%= config.bin %> tunnel start 3000 --json | jq -r .url)',
  ]

  static override args = {
    port: portArg({description: 'local port to expose (1-65535)', required: true}),
  }

  static override flags = {
    auth: Flags.boolean({description: 'require Basic auth (user tunnelctl, a new random password shown once)', exclusive: ['direct']}),
    direct: Flags.boolean({description: 'cloudflared straight to the port, past the local proxy: no --auth', exclusive: ['auth']}),
    timeout: timeoutFlag('seconds to wait for cloudflared to print its URL'),
  }

  async run(): Promise<TunnelInfo & {password?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(TunnelStart)
    const {port} = args
    const request = {port, timeoutMs: flags.timeout, searchPath: callerSearchPath(), ...(flags.direct && {direct: true}), ...(flags.auth && {auth: true})}
    const starting = connectSupervisor().then((client) => client.startTunnel(request))
    const {tunnel, warnings, password} = await this.waitingFor(`Waiting for cloudflared's URL for port ${port}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    this.log(`Forwarding ${tunnel.url} -> http://localhost:${port}${tunnel.direct ? ' (direct)' : ''}`)
    if (password === undefined) return {...tunnel, warnings}
    this.log(renderCredentials(password, `\`tunnelctl tunnel stop ${port}\` and \`tunnelctl tunnel start ${port} --auth\` make a new one, and a new URL`))
    return {...tunnel, password, warnings}
  }
}
