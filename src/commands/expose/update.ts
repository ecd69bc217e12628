import {Flags} from '@oclif/core'
import {TunnelctlCommand} from '../../cli/base-command.js'
import {endpointIdArg} from '../../cli/inputs.js'
import {connectSupervisor} from '../../client/connect.js'
import {badInput} from '../../errors.js'
import type {EndpointInfo} from '../../protocol/endpoints.js'
import {renderPassword} from '../../render/endpoint.js'

export default class ExposeUpdate extends TunnelctlCommand {
  static override summary = 'Turn an endpoint\'s Basic auth on (with a new password, shown once) or off.'
  static override examples = ['<%= config.bin %> expose update a1b2c3d4 --auth', '<%= config.bin %> expose update a1b2c3d4 --no-auth']
  static override args = {
    id: endpointIdArg({description: 'endpoint id (see `expose list`)', required: true}),
  }

  static override flags = {
    auth: Flags.boolean({description: 'require Basic auth, with a new password', exclusive: ['no-auth']}),
    'no-auth': Flags.boolean({description: 'let everyone with the URL in', exclusive: ['auth']}),
  }

  async run(): Promise<EndpointInfo & {password?: string}> {
    const {args, flags} = await this.parse(ExposeUpdate)
    if (!flags.auth && !flags['no-auth']) throw badInput('Say what to change: --auth (a new password) or --no-auth.')
    const {endpoint, password} = await (await connectSupervisor()).updateEndpoint(args.id, {auth: flags.auth === true})
    this.log(password ? `Endpoint ${endpoint.id} now requires auth.` : `Endpoint ${endpoint.id} is open to everyone with its URL.`)
    if (password) this.log(renderPassword(endpoint.id, password))
    return password ? {...endpoint, password} : endpoint
  }
}
