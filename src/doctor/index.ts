import type {Paths} from '../paths.js'
import {checkCloudflared, checkTailscale} from './binaries.js'
import {checkBootService} from './boot-service.js'
import type {Check} from './check.js'
import {checkCloudflaredConfig} from './cloudflared-config.js'
import {checkEndpointFiles} from './endpoint-files.js'
import {checkPermissions} from './permissions.js'
import {checkSettingsFile} from './settings-file.js'
import {checkSupervisor} from './supervisor-health.js'

export interface DoctorReport {
  checks: Check[]
  problems: number
  warnings: number
}

/** Every check, in the order they are shown. They only look: nothing is started, removed, created or changed. */
export async function runDoctor(paths: Paths): Promise<DoctorReport> {
  const checks = (
    await Promise.all([
      checkCloudflared(paths),
      checkTailscale(),
      checkCloudflaredConfig(process.env.HOME),
      checkSupervisor(paths),
      checkBootService(paths),
      checkPermissions(paths),
      checkEndpointFiles(paths.endpointsDir),
      checkSettingsFile(paths),
    ])
  ).flat()
  return {
    checks,
    problems: checks.filter((check) => check.status === 'problem').length,
    warnings: checks.filter((check) => check.status === 'warn').length,
  }
}
