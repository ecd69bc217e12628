/** Linux: a systemd user unit, run by the user's manager from login (or from boot, with lingering). */
import {join} from 'node:path'
import type {BootService} from './boot-service.js'
import {renderLaunchScript, type ServiceLaunch} from './launch-script.js'
import {mustRunServiceTool, runServiceTool} from './service-tool.js'

const MANAGER_ADVICE =
  'Is your systemd user manager running? `systemctl --user status` tells; a session without one (su, some ssh setups) cannot use it.'

/** The unit file. Pure: everything it says comes from its arguments. */
export function renderSystemdUnit(launch: ServiceLaunch, configDir: string): string {
  return [
    '# Written by `tunnelctl supervisor install`; `tunnelctl supervisor uninstall` removes it.',
    '[Unit]',
    `Description=${escapeSpecifiers(`tunnelctl supervisor (${configDir})`)}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=/bin/sh -c ${quoteExecArgument(renderLaunchScript(launch))}`,
    // `tunnelctl supervisor stop` and SIGTERM end the supervisor with status 0, which on-failure leaves
    // stopped; a crash (status 1) or a kill (SIGKILL, the OOM killer) brings it back.
    'Restart=on-failure',
    'RestartSec=2',
    // SIGTERM to the supervisor alone: it stops its children's process groups itself, each with its grace.
    'KillMode=mixed',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n')
}

export function systemdService(options: {name: string; launch: ServiceLaunch; env: NodeJS.ProcessEnv; home: string; configDir: string}): BootService {
  const {launch, env, configDir} = options
  const unit = `${options.name}.service`
  const configHome = env.XDG_CONFIG_HOME || join(options.home, '.config')
  const systemctl = (...args: string[]) => mustRunServiceTool('systemctl', ['--user', ...args], env, MANAGER_ADVICE)
  return {
    manager: 'systemd',
    name: unit,
    file: join(configHome, 'systemd', 'user', unit),
    contents: renderSystemdUnit(launch, configDir),
    afterInstall: [
      'On a machine nobody logs in to, the user manager, and with it the supervisor, starts at boot only with lingering on: loginctl enable-linger $USER',
    ],
    statusCommand: `systemctl --user status ${unit}`,
    async activate() {
      await systemctl('daemon-reload')
      await systemctl('enable', '--now', unit)
    },
    async deactivate() {
      await systemctl('disable', '--now', unit)
    },
    async forget() {
      await systemctl('daemon-reload')
    },
    async start() {
      await systemctl('start', unit)
    },
    async enabled() {
      const {stdout} = await runServiceTool('systemctl', ['--user', 'is-enabled', unit], env)
      return stdout.trim() === 'enabled'
    },
  }
}

/** One argument of ExecStart=, as systemd unquotes it: C escapes in double quotes, then `%` specifiers and `$` variables. */
function quoteExecArgument(text: string): string {
  return `"${escapeSpecifiers(text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')).replaceAll('$', '$$$$')}"`
}

function escapeSpecifiers(text: string): string {
  return text.replaceAll('%', '%%')
}
