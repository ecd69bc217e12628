/** macOS: a LaunchAgent in the user's GUI domain, loaded at login. */
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import type {BootService} from './boot-service.js'
import {renderLaunchScript, type ServiceLaunch} from './launch-script.js'
import {mustRunServiceTool, runServiceTool, toolFailure} from './service-tool.js'

const MANAGER_ADVICE = 'LaunchAgents need a logged-in GUI session of this user (`launchctl print gui/$(id -u)` tells).'
// What launchctl exits with for a service that is not loaded: "No such process" (bootout) and "Could not find service".
const NOT_LOADED = new Set([3, 113])
// "Bootstrap failed: 5: Input/output error": the label is loaded, or still being unloaded.
const STILL_LOADED = 5
const BOOTSTRAP_ATTEMPTS = 10
const BOOTSTRAP_RETRY_MS = 300

/**
 * The agent's property list. Pure. KeepAlive restarts the supervisor only when it exits unsuccessfully:
 * `tunnelctl supervisor stop` ends it with status 0 and it stays stopped.
 */
export function renderLaunchAgent(label: string, launch: ServiceLaunch): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${xmlText(label)}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...['/bin/sh', '-c', renderLaunchScript(launch)].map((argument) => `    <string>${xmlText(argument)}</string>`),
    '  </array>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n')
}

export function launchdService(options: {name: string; launch: ServiceLaunch; env: NodeJS.ProcessEnv; home: string; uid: number}): BootService {
  const {name, env} = options
  const domain = `gui/${options.uid}`
  const target = `${domain}/${name}`
  const file = join(options.home, 'Library', 'LaunchAgents', `${name}.plist`)
  const launchctl = (...args: string[]) => mustRunServiceTool('launchctl', args, env, MANAGER_ADVICE)
  const bootout = async () => {
    const result = await runServiceTool('launchctl', ['bootout', target], env)
    if (result.exitCode !== 0 && !NOT_LOADED.has(result.exitCode)) throw toolFailure('launchctl', ['bootout', target], result, MANAGER_ADVICE)
  }

  // Right after a bootout launchd may still hold the label, and refuses it as it does a loaded one (5).
  const bootstrap = async () => {
    for (let attempt = 1; ; attempt++) {
      const result = await runServiceTool('launchctl', ['bootstrap', domain, file], env)
      if (result.exitCode === 0) return
      if (result.exitCode !== STILL_LOADED || attempt === BOOTSTRAP_ATTEMPTS) throw toolFailure('launchctl', ['bootstrap', domain, file], result, MANAGER_ADVICE)
      await delay(BOOTSTRAP_RETRY_MS)
    }
  }

  return {
    manager: 'launchd',
    name,
    file,
    contents: renderLaunchAgent(name, options.launch),
    afterInstall: [],
    statusCommand: `launchctl print ${target}`,
    async activate() {
      // bootstrap refuses a loaded service (error 5), and `launchctl disable` would keep it from loading at login.
      await bootout()
      await launchctl('enable', target)
      await bootstrap()
    },
    deactivate: bootout,
    async forget() {},
    async start() {
      const kicked = await runServiceTool('launchctl', ['kickstart', target], env)
      // Unloaded since login (`launchctl bootout`): loading it runs it (RunAtLoad).
      if (NOT_LOADED.has(kicked.exitCode)) await bootstrap()
      else if (kicked.exitCode !== 0) throw toolFailure('launchctl', ['kickstart', target], kicked, MANAGER_ADVICE)
    },
    async enabled() {
      return (await runServiceTool('launchctl', ['print', target], env)).exitCode === 0
    },
  }
}

function xmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
