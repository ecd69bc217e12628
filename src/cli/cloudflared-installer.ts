import {type CloudflaredRelease, DEFAULT_GITHUB_API, findCloudflaredRelease} from '../install/cloudflared-release.js'
import {type HttpOptions, httpOptions} from '../install/http.js'
import {type InstallResult, installCloudflared} from '../install/install-cloudflared.js'
import type {Paths} from '../paths.js'
import {downloadProgress} from '../render/download-progress.js'

/** The release with that tag (or the latest), through GitHub's API or TUNNELCTL_GITHUB_API's stand-in. */
export function lookUpCloudflared(tag: string, env: NodeJS.ProcessEnv = process.env): Promise<CloudflaredRelease> {
  const apiBase = env.TUNNELCTL_GITHUB_API || DEFAULT_GITHUB_API
  return withHttp(env, (http) => findCloudflaredRelease(tag, {...http, apiBase, platform: process.platform, arch: process.arch}))
}

/** Installs it with a progress bar on stderr (one line at the end when stderr is not a terminal). */
export function installWithProgress(paths: Paths, release: CloudflaredRelease, env: NodeJS.ProcessEnv = process.env): Promise<InstallResult> {
  return withHttp(env, async (http) => {
    const progress = downloadProgress(release.asset.name)
    let downloaded = false
    try {
      const result = await installCloudflared(paths, release, {...http, onProgress: progress.update})
      downloaded = !result.alreadyInstalled
      return result
    } finally {
      progress.done(downloaded)
    }
  })
}

async function withHttp<T>(env: NodeJS.ProcessEnv, use: (http: HttpOptions) => Promise<T>): Promise<T> {
  const http = await httpOptions(env)
  try {
    return await use(http)
  } finally {
    await http.dispatcher.close()
  }
}
