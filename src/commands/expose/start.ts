import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {connectSupervisor} from '../../client/connect.js'
import {type EndpointInfo, parseStartEndpointRequest} from '../../expose-protocol.js'
import {EXPOSE_MODES} from '../../providers/provider.js'
import {renderPassword} from '../../render/endpoint.js'

export default class ExposeStart extends TunnelctlCommand {
  static override summary = 'Publish a local port or unix socket through a provider, behind the proxy; it stays until stopped.'
  static override description =
    'The endpoint is saved and brought back whenever the supervisor starts. Providers: cloudflare, tailscale, local, and any custom.<name> you configure (see `tunnelctl config list`). With --auth, visitors need user tunnelctl and a password that is shown here once.'

  static override examples = [
    '<%= config.bin %> expose start 3000 --provider cloudflare --auth',
    '<%= config.bin %> expose start unix:/run/app.sock --provider local',
    '<%= config.bin %> expose start 8080 --provider tailscale --mode public',
  ]

  static override args = {
    target: Args.string({description: 'local port (3000) or unix socket (unix:/path/to/app.sock)', required: true}),
  }

  static override flags = {
    provider: Flags.string({char: 'p', description: 'provider to publish through; may be left out when only one is available'}),
    mode: Flags.string({description: 'public (internet) or private (the provider\'s own network), where the provider has both', options: [...EXPOSE_MODES]}),
    auth: Flags.boolean({description: 'require Basic auth (user tunnelctl, a new random password shown once)'}),
    name: Flags.string({description: 'name for the endpoint, used in its hostname where the provider makes one'}),
  }

  async run(): Promise<EndpointInfo & {password?: string}> {
    const {args, flags} = await this.parse(ExposeStart)
    // Checked here as the supervisor will check it, so that bad input never starts one.
    const request = parseStartEndpointRequest({target: absoluteTarget(args.target), provider: flags.provider, mode: flags.mode, auth: flags.auth, name: flags.name})
    const {endpoint, password} = await (await connectSupervisor()).startEndpoint(request)
    const target = /^\d+$/.test(endpoint.target ?? '') ? `localhost:${endpoint.target}` : endpoint.target
    this.log(`Endpoint ${endpoint.id} is up: ${endpoint.url} -> ${target} (${endpoint.provider})`)
    if (endpoint.urls.length > 1) this.log(`Also at: ${endpoint.urls.slice(1).join(', ')}`)
    if (password) this.log(renderPassword(endpoint.id, password))
    return password ? {...endpoint, password} : endpoint
  }
}

/** The supervisor runs elsewhere: a relative socket path means the one relative to here. */
function absoluteTarget(target: string): string {
  const path = target.startsWith('unix:') ? target.slice('unix:'.length) : ''
  return path ? `unix:${resolve(path)}` : target
}
