import {TunnelctlCommand} from '../cli/base-command.js'
import {type DoctorReport, runDoctor} from '../doctor/index.js'
import {resolvePaths} from '../paths.js'
import {renderDoctorReport} from '../render/doctor.js'

export default class Doctor extends TunnelctlCommand {
  static override summary = 'Check what tunnelctl depends on and what it left behind, with a fix for each problem.'
  static override description =
    'Looks at cloudflared and tailscale, a cloudflared config that would hijack plain quick tunnels, the supervisor and its version, ' +
    'stale sockets, pid files and locks, the boot service, file permissions, and endpoint files and a settings file that do not read. ' +
    'Changes nothing and never starts a supervisor. Exits 1 when there is a problem; warnings alone exit 0.'

  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<DoctorReport> {
    await this.parse(Doctor)
    const report = await runDoctor(resolvePaths())
    this.log(renderDoctorReport(report))
    // The report is the output either way; the status lets a script stop on a problem.
    if (report.problems > 0) process.exitCode = 1
    return report
  }
}
