import type {Paths} from '../paths.js'
import {bootService, isInstalled, readOrUndefined} from '../service/boot-service.js'
import type {Check} from './check.js'

const INSTALL = 'tunnelctl supervisor install'

/**
 * Whether the boot service is installed, and if so whether its manager will start it and whether its
 * file is what an install from here would write (another node, tunnelctl or PATH: an upgrade or a
 * move leaves it pointing at what may be gone). Asks the manager; changes nothing.
 */
export async function checkBootService(paths: Paths): Promise<Check> {
  const service = bootService(paths)
  if (!service) return {id: 'service', status: 'ok', summary: `no boot service on ${process.platform}; commands start the supervisor on demand`}
  if (!isInstalled(service)) return {id: 'service', status: 'ok', summary: `not installed; \`${INSTALL}\` starts the supervisor at login`}
  const {name, file} = service
  if (readOrUndefined(file) !== service.contents) {
    return {
      id: 'service',
      status: 'warn',
      summary: `${file} is not what \`${INSTALL}\` writes from here: it runs another node, tunnelctl, PATH or home`,
      fix: `${INSTALL} (it rewrites the file), or \`tunnelctl supervisor uninstall\` if this tunnelctl should not have one`,
    }
  }

  let enabled: boolean
  try {
    enabled = await service.enabled()
  } catch (error) {
    return {id: 'service', status: 'warn', summary: `${name} is installed, but its manager could not be asked: ${(error as Error).message}`, fix: service.statusCommand}
  }

  if (!enabled) return {id: 'service', status: 'warn', summary: `${name} is installed (${file}) but not enabled: it will not start at login`, fix: INSTALL}
  return {id: 'service', status: 'ok', summary: `${name} installed and enabled (${file})`}
}
