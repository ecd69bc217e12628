import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {ensureCloudflared, installCloudflaredFlag} from '../../cli/ensure-cloudflared.js'
import {exposeTargetArg, timeoutFlag} from '../../cli/inputs.js'
import {refuseUrlFlagsWithJson, showUrlFlags} from '../../cli/show-url.js'
import {connectSupervisor} from '../../client/connect.js'
import {type EndpointInfo, EXPOSE_MODES, parseStartEndpointRequest} from '../../protocol/endpoints.js'
import {formatExposeTarget, refuseNonSocketTarget} from '../../protocol/expose-target.js'
import {TARGET_FORMS} from '../../protocol/local-target.js'
import {callerSearchPath} from '../../protocol/search-path.js'
import {renderPassword} from '../../render/endpoint.js'

export default class ExposeStart extends TunnelctlCommand {
  static override summary = 'Publish a local port or unix socket through a provider, behind the proxy; it stays until stopped.'
  static override description =
    'The endpoint is saved, with this command\'s PATH (where cloudflared, tailscale or a custom command is looked for), and brought back whenever the supervisor starts. Providers: cloudflare, tailscale, local, and any custom.<name> you configure (see `tunnelctl config list`); without --provider, the one available besides local is used (local, which puts the target on your network, only when named). With --auth, visitors need user tunnelctl and a password that is shown here once. ' +
    `The target may be written ${TARGET_FORMS}, or unix:/path/to/app.sock; the proxy speaks TLS to an https one without verifying its certificate (a local dev server's own), and says so in a warning.`

  static override examples = [
    '<%= config.bin %> expose start 3000 --provider cloudflare --auth',
    '<%= config.bin %> expose start unix:/run/app.sock --provider local',
    '<%= config.bin %> expose start https://localhost:8443 --provider local',
    '<%= config.bin %> expose start 8080 --provider tailscale --mode public',
    '<%= config.bin %> expose start 3000 --provider myssh --timeout 60',
    '<%= config.bin %> expose start 8080 --provider tailscale --qr',
  ]

  static override args = {
    target: exposeTargetArg({description: `local port or URL (${TARGET_FORMS}) or unix socket (unix:/path/to/app.sock)`, required: true}),
  }

  static override flags = {
    provider: Flags.string({char: 'p', description: 'provider to publish through; may be left out when exactly one besides local is available'}),
    mode: Flags.string({description: 'public (internet) or private (the provider\'s own network), where the provider has both', options: [...EXPOSE_MODES]}),
    auth: Flags.boolean({description: 'require Basic auth (user tunnelctl, a new random password shown once)'}),
    name: Flags.string({description: 'name for the endpoint, used in its hostname where the provider makes one'}),
    timeout: timeoutFlag('seconds to wait for the provider\'s URL (cloudflared, a custom command)'),
    ...showUrlFlags,
    'install-cloudflared': installCloudflaredFlag,
  }

  async run(): Promise<EndpointInfo & {password?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(ExposeStart)
    refuseUrlFlagsWithJson(flags, this.jsonEnabled())
    // Checked here as the supervisor will check it, so that bad input never starts one.
    const request = parseStartEndpointRequest({
      target: formatExposeTarget(args.target),
      provider: flags.provider,
      mode: flags.mode,
      auth: flags.auth,
      name: flags.name,
      timeoutMs: flags.timeout,
      searchPath: callerSearchPath(),
    })
    await refuseNonSocketTarget(args.target)
    if (request.provider === 'cloudflare') await ensureCloudflared(this, flags)
    const starting = connectSupervisor().then((client) => client.startEndpoint(request))
    const {endpoint, password, warnings} = await this.waitingFor(`Waiting for the URL of ${request.target}${request.provider ? ` on ${request.provider}` : ''}`, starting)
    for (const warning of warnings) this.warnUser(warning)
    const target = /^\d+$/.test(endpoint.target ?? '') ? `localhost:${endpoint.target}` : endpoint.target
    const also = endpoint.urls.length > 1 ? `\nAlso at: ${endpoint.urls.slice(1).join(', ')}` : ''
    await this.showUrl(`Endpoint ${endpoint.id} is up: ${endpoint.url} -> ${target} (${endpoint.provider})${also}`, endpoint.url, flags)
    if (password) this.log(renderPassword(endpoint.id, password))
    return password ? {...endpoint, password, warnings} : {...endpoint, warnings}
  }
}
