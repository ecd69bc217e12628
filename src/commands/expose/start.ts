import {Args, Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {timeoutFlag} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import {type EndpointInfo, EXPOSE_MODES, parseStartEndpointRequest} from '../../protocol/endpoints.js'
import {parseExposeTarget, refuseNonSocketTarget} from '../../protocol/expose-target.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import {renderPassword} from '../../render/endpoint.js'

export default class ExposeStart extends TunnelctlCommand {
  static override summary = 'Publish a local port or unix socket through a provider, behind the proxy; it stays until stopped.'
  static override description =
    'The endpoint is saved, with this command\'s PATH (where cloudflared, tailscale or a custom command is looked for), and brought back whenever the supervisor starts. Providers: cloudflare, tailscale, local, and any custom.<name> you configure (see `tunnelctl config list`); without --provider, the one available besides local is used (local, which puts the target on your network, only when named). With --auth, visitors need user tunnelctl and a password that is shown here once.'

  static override examples = [
    '<%= config.bin %> expose start 3000 --provider cloudflare --auth',
    '<%= config.bin %> expose start unix:/run/app.sock --provider local',
    '<%= config.bin %> expose start 8080 --provider tailscale --mode public',
    '<%= config.bin %> expose start 3000 --provider myssh --timeout 60',
  ]

  static override args = {
    target: Args.string({description: 'local port (3000) or unix socket (unix:/path/to/app.sock)', required: true}),
  }

  static override flags = {
    provider: Flags.string({char: 'p', description: 'provider to publish through; may be left out when exactly one besides local is available'}),
    mode: Flags.string({description: 'public (internet) or private (the provider\'s own network), where the provider has both', options: [...EXPOSE_MODES]}),
    auth: Flags.boolean({description: 'require Basic auth (user tunnelctl, a new random password shown once)'}),
    name: Flags.string({description: 'name for the endpoint, used in its hostname where the provider makes one'}),
    timeout: timeoutFlag('seconds to wait for the provider\'s URL (cloudflared, a custom command)'),
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<EndpointInfo & {password?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(ExposeStart)
    // Checked here as the supervisor will check it, so that bad input never starts one.
    const request = parseStartEndpointRequest({
      target: args.target,
      provider: flags.provider,
      mode: flags.mode,
      auth: flags.auth,
      name: flags.name,
      timeoutMs: flags.timeout,
      searchPath: callerSearchPath(),
    })
    await refuseNonSocketTarget(parseExposeTarget(request.target))
    if (request.provider === 'cloudflare') await ensureCloudflared(this, flags)
    const starting = connectSupervisor().then((client) => client.startEndpoint(request))
    const {endpoint, password, warnings} = await this.waitingFor(`Waiting for the URL of ${request.target}${request.provider ? ` on ${request.provider}` : ''}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    const target = /^\d+$/.test(endpoint.target ?? '') ? `localhost:${endpoint.target}` : endpoint.target
    this.log(`Endpoint ${endpoint.id} is up: ${endpoint.url} -> ${target} (${endpoint.provider})`)
    if (endpoint.urls.length > 1) this.log(`Also at: ${endpoint.urls.slice(1).join(', ')}`)
    if (password) this.log(renderPassword(endpoint.id, password))
    return password ? {...endpoint, password, warnings} : {...endpoint, warnings}
  }
}
