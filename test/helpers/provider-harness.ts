import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Settings} from '../../src/config/settings.js'
import {resolvePaths} from '../../src/paths.js'
import {cloudflaredSources} from '../../src/providers/cloudflare/cloudflared-binary.js'
import type {ProviderContext} from '../../src/providers/provider.js'
import {type Down, KeptAlive} from '../../src/process/kept-alive.js'
import {isRunning} from '../../src/process/process-alive.js'
import type {ManagedProcess} from '../../src/process/managed-process.js'

/**
 * A provider on its own, outside a supervisor: a settings file in a temporary home, and a record
 * of every process it spawned and every restart, so that a test can check both and cleanup() can
 * prove nothing is left running.
 */
export class ProviderHarness {
  readonly home = mkdtempSync(join(tmpdir(), 'tcp-'))
  readonly settings: Settings
  readonly spawned: ManagedProcess[] = []
  readonly downs: Down[] = []
  readonly runtimeDir = join(this.home, 'run')
  private readonly paths = resolvePaths({TUNNELCTL_HOME: this.home})

  constructor() {
    mkdirSync(this.runtimeDir, {mode: 0o700})
    this.settings = new Settings(this.paths)
  }

  context(proxyPort: number): ProviderContext {
    return {
      proxyPort: () => proxyPort,
      runtimeDir: this.runtimeDir,
      settings: this.settings,
      cloudflared: cloudflaredSources(this.settings, this.paths.installedCloudflared),
      acceptConnection(socket) {
        const upstream = connect(proxyPort, '127.0.0.1')
        socket.pipe(upstream).pipe(socket)
        upstream.on('error', () => socket.destroy())
        socket.on('error', () => upstream.destroy())
      },
      keepAlive: (options) =>
        new KeptAlive({
          ...options,
          onSpawn: (child) => {
            this.spawned.push(child)
            options.onSpawn?.(child)
          },
          onDown: (down) => {
            this.downs.push(down)
            options.onDown?.(down)
          },
        }),
    }
  }

  /** Kills whatever is still running and returns the pids that were. */
  cleanup(): number[] {
    const left = this.spawned.filter((child) => isRunning(child.pid)).map((child) => child.pid)
    for (const child of this.spawned) child.killGroup()
    rmSync(this.home, {recursive: true, force: true})
    return left
  }
}
