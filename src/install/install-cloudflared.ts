/**
 * `tunnelctl cloudflared install`, and the install a start asks for: the release's asset for this
 * platform, downloaded into a private directory beside the target, verified, tried, and renamed into
 * place, so that <home>/bin/cloudflared is at any moment either absent, the old one, or a verified one.
 */
import {chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, stat} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {TunnelctlError} from '../errors.js'
import {acquireLock} from '../lock-file.js'
import type {Paths} from '../paths.js'
import {runCommand} from '../process/run.js'
import type {CloudflaredRelease} from './cloudflared-release.js'
import type {HttpOptions} from './http.js'
import {downloadVerified, type ProgressListener} from './verified-download.js'

// Printing a version is instant; one that takes longer is hung.
const VERSION_TIMEOUT_MS = 10_000
const EXTRACT_TIMEOUT_MS = 60_000
// A lock older than lock-file.ts's stale limit is taken over: a second install then downloads too,
// and the rename keeps the file whole either way.
const LOCK_WAIT_MS = 60_000
const WORK_PREFIX = '.install-'

export interface InstallResult {
  tag: string
  file: string
  /** What the installed cloudflared says it is. */
  version: string
  /** Nothing was downloaded: that tag was there already. */
  alreadyInstalled: boolean
}

/** The version the cloudflared at `file` says it is, or undefined when there is none or it does not run. */
async function cloudflaredVersion(file: string): Promise<string | undefined> {
  const {stdout, failure} = await runCommand(file, ['--version'], {timeoutMs: VERSION_TIMEOUT_MS})
  return failure ? undefined : /^cloudflared version (\S+)/.exec(stdout.trim())?.[1]
}

/** The installed copy when it is that tag; found by asking it, so that no record can disagree with the file. */
export async function installedAt(paths: Paths, tag: string): Promise<InstallResult | undefined> {
  const version = await cloudflaredVersion(paths.installedCloudflared)
  return version === tag ? {tag, file: paths.installedCloudflared, version, alreadyInstalled: true} : undefined
}

export interface InstallOptions extends HttpOptions {
  onProgress?: ProgressListener
}

/** Installs the release's asset as paths.installedCloudflared, unless that tag is there already. One install at a time per home. */
export async function installCloudflared(paths: Paths, release: CloudflaredRelease, options: InstallOptions): Promise<InstallResult> {
  await ensureBinDir(paths)
  const unlock = await acquireLock(join(paths.binDir, '.install.lock'), LOCK_WAIT_MS)
  if (!unlock) {
    throw new TunnelctlError('DOWNLOAD_FAILED', `Another tunnelctl has been installing cloudflared into ${paths.binDir} for over ${LOCK_WAIT_MS / 1000} s. Try again once it is done.`)
  }

  try {
    await removeLeftovers(paths)
    // Another install may have finished while this one waited for the lock.
    return (await installedAt(paths, release.tag)) ?? (await downloadAndPlace(paths, release, options))
  } finally {
    await unlock()
  }
}

async function downloadAndPlace(paths: Paths, release: CloudflaredRelease, options: InstallOptions): Promise<InstallResult> {
  // Beside the target, so the rename is atomic; mkdtemp makes it 0700 under a name no one can guess.
  const work = await mkdtemp(join(paths.binDir, WORK_PREFIX))
  try {
    const download = join(work, release.asset.name)
    await downloadVerified(release.asset, download, options)
    const program = release.asset.archive ? await extractProgram(download, work) : download
    await chmod(program, 0o755)
    const version = await cloudflaredVersion(program)
    if (!version) {
      throw new TunnelctlError(
        'DOWNLOAD_FAILED',
        `The downloaded cloudflared ${release.tag} (${release.asset.name}) does not run here: \`cloudflared --version\` printed no version. Nothing was installed. Install cloudflared yourself for this system.`,
      )
    }

    await rename(program, paths.installedCloudflared)
    return {tag: release.tag, file: paths.installedCloudflared, version, alreadyInstalled: false}
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

/**
 * Work directories of installs that were killed before they could remove their own (SIGKILL, or
 * Ctrl-C mid-download): with the lock held, no install is using one.
 */
async function removeLeftovers(paths: Paths): Promise<void> {
  const names = await readdir(paths.binDir)
  await Promise.all(names.filter((name) => name.startsWith(WORK_PREFIX)).map((name) => rm(join(paths.binDir, name), {recursive: true, force: true})))
}

/** The macOS asset is a tarball holding `cloudflared`: that one regular file is taken, nothing else is trusted. */
async function extractProgram(archive: string, dir: string): Promise<string> {
  const program = join(dir, 'cloudflared')
  const result = await runCommand('tar', ['-xzf', archive, '-C', dir, 'cloudflared'], {timeoutMs: EXTRACT_TIMEOUT_MS})
  const isFile = await lstat(program).then((s) => s.isFile(), () => false)
  if (result.failure || !isFile) {
    const said = result.stderr.trim().split('\n')[0] ?? ''
    throw new TunnelctlError('DOWNLOAD_FAILED', `${basename(archive)} holds no cloudflared program${result.failure ? ` (tar: ${result.failure}${said ? `: ${said}` : ''})` : ''}. Nothing was installed.`)
  }

  return program
}

/** <home>/bin: made if need be, and refused, or made private, when someone else could put a program there. */
async function ensureBinDir(paths: Paths): Promise<void> {
  await mkdir(paths.configDir, {recursive: true, mode: 0o700})
  await mkdir(paths.binDir, {recursive: true, mode: 0o755})
  const dir = await stat(paths.binDir)
  const uid = process.getuid?.()
  if (uid !== undefined && dir.uid !== uid) {
    throw new TunnelctlError('DOWNLOAD_FAILED', `${paths.binDir} belongs to another user (uid ${dir.uid}); tunnelctl will not run a program from it. Remove it, or set TUNNELCTL_HOME to a directory of your own.`)
  }

  if ((dir.mode & 0o022) !== 0) await chmod(paths.binDir, dir.mode & 0o755)
}
