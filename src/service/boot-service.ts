/**
 * The boot service: a unit of the platform's service manager that runs the supervisor at login (or
 * boot) and again when it fails. One module per manager (systemd.ts, launchd.ts); the file handling
 * they share is here.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname} from 'node:path'
import {TunnelctlError} from '../errors.js'
import type {Paths} from '../paths.js'
import {CARRIED_VARIABLES, type ServiceLaunch} from './launch-script.js'
import {launchdService} from './launchd.js'
import {systemdService} from './systemd.js'

/** One manager's view of tunnelctl's service for one home. */
export interface BootService {
  manager: 'systemd' | 'launchd'
  /** The unit's or the agent's name: it tells homes apart. */
  name: string
  file: string
  /** What install writes into the file. */
  contents: string
  /** Said after an install: what else the user may need to do. */
  afterInstall: string[]
  /** The command that shows what the manager knows of the service. */
  statusCommand: string
  /** Loads and enables the written file, and starts the supervisor. */
  activate(): Promise<void>
  /** Stops the supervisor and unloads the service; fine when it is not loaded. */
  deactivate(): Promise<void>
  /** Tells the manager the file is gone. */
  forget(): Promise<void>
  /** Starts the supervisor through the manager. */
  start(): Promise<void>
  /** Whether the manager will start it at login. */
  enabled(): Promise<boolean>
}

export interface ServiceHost {
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  /** The node that runs the supervisor. */
  node: string
  uid: number
}

const DEFAULT_NAME = 'tunnelctl'

/** The boot service for this home on this platform, or undefined where there is no manager tunnelctl knows. */
export function bootService(paths: Paths, host: ServiceHost = thisHost()): BootService | undefined {
  const {platform, env} = host
  // A home of its own gets a service of its own, named for a hash of where it is.
  const name = env.TUNNELCTL_HOME ? `${DEFAULT_NAME}-${createHash('sha256').update(paths.configDir).digest('hex').slice(0, 8)}` : DEFAULT_NAME
  const launch: ServiceLaunch = {
    node: host.node,
    runtimeDir: paths.runtimeDir,
    supervisorLog: paths.supervisorLog,
    environment: Object.fromEntries(CARRIED_VARIABLES.map((variable) => [variable, variable === 'TUNNELCTL_HOME' && env.TUNNELCTL_HOME ? paths.configDir : env[variable]])),
  }
  const home = env.HOME || homedir()
  if (platform === 'linux') return systemdService({name, launch, env, home, configDir: paths.configDir})
  if (platform === 'darwin') return launchdService({name, launch, env, home, uid: host.uid})
  return undefined
}

/** The boot service, or an error that says this platform has none tunnelctl can make. */
export function requireBootService(paths: Paths): BootService {
  const service = bootService(paths)
  if (service) return service
  throw new TunnelctlError(
    'SERVICE_FAILED',
    `tunnelctl makes boot services with systemd (Linux) and launchd (macOS) only, not on ${process.platform}. Commands start the supervisor on demand.`,
  )
}

/** What `supervisor status` says of the service; null where there is no manager tunnelctl knows. */
export interface ServiceSummary {
  installed: boolean
  manager: BootService['manager']
  name: string
  file: string
}

export function summarizeService(paths: Paths): ServiceSummary | null {
  const service = bootService(paths)
  if (!service) return null
  const {manager, name, file} = service
  return {installed: isInstalled(service), manager, name, file}
}

export function isInstalled(service: BootService): boolean {
  return existsSync(service.file)
}

/** Writes the service's file and activates it. A failed activation puts back what was there before. */
export async function installService(service: BootService): Promise<{changed: boolean}> {
  const before = readOrUndefined(service.file)
  mkdirSync(dirname(service.file), {recursive: true})
  writeFileSync(service.file, service.contents, {mode: 0o644})
  try {
    await service.activate()
  } catch (error) {
    if (before === undefined) rmSync(service.file, {force: true})
    else writeFileSync(service.file, before)
    throw error
  }

  return {changed: before !== service.contents}
}

/** Stops and unloads the service, then deletes its file. False when there was nothing to remove. */
export async function uninstallService(service: BootService): Promise<boolean> {
  if (!isInstalled(service)) return false
  await service.deactivate()
  rmSync(service.file, {force: true})
  await service.forget()
  return true
}

export function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function thisHost(): ServiceHost {
  return {platform: process.platform, env: process.env, node: process.execPath, uid: process.getuid?.() ?? 0}
}
