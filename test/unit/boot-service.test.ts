import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {resolvePaths} from '../../src/paths.js'
import {bootService, type ServiceHost} from '../../src/service/boot-service.js'
import {renderLaunchAgent} from '../../src/service/launchd.js'
import type {ServiceLaunch} from '../../src/service/launch-script.js'
import {renderSystemdUnit} from '../../src/service/systemd.js'

const host = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv): ServiceHost => ({platform, env: {HOME: '/home/ada', ...env}, node: '/usr/bin/node', uid: 501})
const serviceFor = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv = {}) => bootService(resolvePaths({HOME: '/home/ada', ...env}), host(platform, env))!

// A home with every character the quoting has to survive: sh's quote, systemd's specifier and variable signs, XML's.
const ODD = `/tmp/it's "100%" $HOME\\x <&>`
const launch: ServiceLaunch = {node: '/usr/bin/node', runtimeDir: `${ODD}/run`, supervisorLog: `${ODD}/run/supervisor.log`, environment: {PATH: '/usr/bin:/bin', TUNNELCTL_HOME: ODD, XDG_RUNTIME_DIR: undefined}}

describe('the service for a home', () => {
  it('is tunnelctl for the default home, and tunnelctl-<hash of the home> for a TUNNELCTL_HOME', () => {
    expect(serviceFor('linux', {XDG_RUNTIME_DIR: '/run/user/1000'})).toMatchObject({manager: 'systemd', name: 'tunnelctl.service', file: '/home/ada/.config/systemd/user/tunnelctl.service'})
    expect(serviceFor('darwin')).toMatchObject({manager: 'launchd', name: 'tunnelctl', file: '/home/ada/Library/LaunchAgents/tunnelctl.plist'})
    const one = serviceFor('linux', {TUNNELCTL_HOME: '/srv/one', XDG_CONFIG_HOME: '/etc/ada'})
    const two = serviceFor('linux', {TUNNELCTL_HOME: '/srv/two'})
    expect(one.name).toMatch(/^tunnelctl-[\da-f]{8}\.service$/)
    expect(one.file).toBe(join('/etc/ada/systemd/user', one.name))
    expect(two.name).not.toBe(one.name)
    expect(serviceFor('darwin', {TUNNELCTL_HOME: '/srv/one'}).name).toBe(one.name.replace('.service', ''))
  })

  it('runs the same node and entry as auto-spawn, with the variables that decide where the socket is', () => {
    const {contents} = serviceFor('linux', {TUNNELCTL_HOME: 'relative/home', PATH: '/opt/bin:/usr/bin', TMPDIR: '/var/tmp'})
    const home = join(process.cwd(), 'relative/home')
    expect(contents).toContain(`export PATH='/opt/bin:/usr/bin' TUNNELCTL_HOME='${home}' TMPDIR='/var/tmp' && unset XDG_RUNTIME_DIR`)
    expect(contents).toMatch(/exec '\/usr\/bin\/node' '--max-semi-space-size=4' '--optimize-for-size' '[^']+\/supervisor\.js' '--no-idle-exit' >>'[^']+\/run\/supervisor\.log' 2>&1"$/m)
  })

  it('is not made on platforms without systemd or launchd', () => {
    expect(bootService(resolvePaths({HOME: '/home/ada'}), host('win32', {}))).toBeUndefined()
  })
})

describe('renderSystemdUnit', () => {
  it('restarts on failure only, signals the supervisor alone, and starts with the user manager', () => {
    const unit = renderSystemdUnit(launch, '/srv/home')
    expect(unit.split('\n').filter((line) => /^(\[|Restart|KillMode|WantedBy|Type)/.test(line))).toEqual([
      '[Unit]',
      '[Service]',
      'Type=simple',
      'Restart=on-failure',
      'RestartSec=2',
      'KillMode=mixed',
      '[Install]',
      'WantedBy=default.target',
    ])
  })

  it('quotes ExecStart= for systemd: % as %%, $ as $$, C escapes inside double quotes', () => {
    const unit = renderSystemdUnit(launch, ODD)
    expect(unit).toContain(`Description=tunnelctl supervisor (/tmp/it's "100%%" $HOME\\x <&>)`)
    expect(unit).toContain(`ExecStart=/bin/sh -c "umask 077 && mkdir -p '/tmp/it'\\\\''s \\"100%%\\" $$HOME\\\\x <&>/run' && `)
  })
})

describe('renderLaunchAgent', () => {
  it('runs at load, keeps the supervisor alive only after an unsuccessful exit, and escapes XML', () => {
    const plist = renderLaunchAgent('tunnelctl', launch)
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist /)
    expect(plist).toContain('<key>Label</key>\n  <string>tunnelctl</string>')
    expect(plist).toContain('<key>ProgramArguments</key>\n  <array>\n    <string>/bin/sh</string>\n    <string>-c</string>\n    <string>umask 077 &amp;&amp; mkdir -p ')
    expect(plist).toContain(`'/tmp/it'\\''s "100%" $HOME\\x &lt;&amp;&gt;/run'`)
    expect(plist).toContain('<key>RunAtLoad</key>\n  <true/>\n  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>')
    expect(plist).not.toMatch(/<string>[^<]*[<>][^<]*<\/string>/)
  })
})
