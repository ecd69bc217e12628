import {execa} from 'execa'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, TestHome} from '../helpers/cli.js'
import {unusedPort} from '../helpers/ports.js'
import {WAIT_MS} from '../helpers/wait.js'

describe('the npm package', () => {
  const out = mkdtempSync(join(tmpdir(), 'tc-pack-'))
  let tarball: string
  let filename: string
  let t: TestHome
  // One npm cache for the file: the first npx fetches the dependencies from the registry, the later ones find them here.
  const cache = join(out, 'npm-cache')

  beforeAll(async () => {
    // --ignore-scripts: prepack would rebuild dist/ under the feet of the tests running beside this one;
    // the test command has just built it.
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], {cwd: ROOT})
    filename = JSON.parse(pack.stdout)[0].filename
    tarball = join(out, filename)
    t = new TestHome()
  }, 120_000)

  afterAll(async () => {
    expect(await t.cleanup(), 'processes left behind').toEqual([])
    rmSync(out, {recursive: true, force: true})
  })

  it('ships the built CLI, the oclif manifest and nothing of the sources or tests', async () => {
    const list = await execa('tar', ['-tzf', tarball])
    const files = list.stdout.split('\n')
    expect(files).toEqual(expect.arrayContaining(['package/bin/run.js', 'package/oclif.manifest.json', 'package/dist/commands/tunnel/start.js', 'package/dist/supervisor.js', 'package/dist/supervisor/inspect/page/index.html', 'package/dist/supervisor/inspect/page/inspector.js']))
    expect(files.filter((f) => /^package\/(src|test)\//.test(f))).toEqual([])
  })

  it('runs as `npx ./tunnelctl-<version>.tgz tunnel list`', async () => {
    // npx takes a path with ./ as a package; without it, as a command to run.
    // A cache of its own: a clean install from the registry, never an earlier build npx kept.
    const env = {...t.env, npm_config_cache: cache}
    const npx = await execa('npx', ['--yes', `./${filename}`, 'tunnel', 'list'], {cwd: out, env, extendEnv: false, reject: false})
    expect(npx.stderr).not.toMatch(/Error/)
    expect(npx.stdout).toBe('No tunnels are running: the supervisor is not running.')
    expect(npx.exitCode).toBe(0)
    // oclif's plugins and the hook's dependency come with it: help lists their commands, a typo gets its suggestion.
    const help = await execa('npx', ['--yes', `./${filename}`, 'help'], {cwd: out, env, extendEnv: false, reject: false})
    expect(help.stdout).toMatch(/^ {2}autocomplete {2}/m)
    const typo = await execa('npx', ['--yes', `./${filename}`, 'tunel', 'list'], {cwd: out, env, extendEnv: false, reject: false})
    expect(typo.stderr).toContain('Did you mean tunnel list?')
    expect(typo.exitCode).toBe(2)
  }, 180_000)

  it('runs `npx --yes --package <tarball> tunnelctl tunnel start` with no terminal, its supervisor from npx\'s cache, as the next npx finds it', async () => {
    // As documented (`npx --yes tunnelctl …`), from a script: stdin is not a terminal, and nothing may ask.
    const npx = (args: string[]) =>
      execa('npx', ['--yes', '--prefer-offline', '--package', tarball, 'tunnelctl', ...args], {
        cwd: out,
        env: {...t.env, npm_config_cache: cache},
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: WAIT_MS,
      })
    const port = await unusedPort()
    try {
      const start = await npx(['tunnel', 'start', String(port), '--json'])
      expect(start.exitCode, start.stderr).toBe(0)
      const {url} = JSON.parse(start.stdout)
      expect(url).toMatch(/^https:\/\/[a-z0-9-]+\.trycloudflare\.com$/)

      const status = await npx(['supervisor', 'status', '--json'])
      const {running, pid} = JSON.parse(status.stdout)
      expect(running, status.stdout).toBe(true)
      // node, its flags, then the file it runs.
      const entry = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!
      expect(relative(cache, entry), entry).toMatch(/^_npx\/[\da-f]+\/node_modules\/tunnelctl\/dist\/supervisor\.js$/)

      const list = await npx(['tunnel', 'list', '--json'])
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({port, url, status: 'up'})])
      expect(JSON.parse((await npx(['supervisor', 'status', '--json'])).stdout).pid, 'the same supervisor').toBe(pid)

      const stop = await npx(['tunnel', 'stop', String(port)])
      expect(stop.exitCode, stop.stderr).toBe(0)
      expect(stop.stdout).toBe(`Stopped the tunnel on port ${port} (${url}).`)
      expect(JSON.parse((await npx(['tunnel', 'list', '--json'])).stdout)).toEqual([])
    } finally {
      await npx(['supervisor', 'stop'])
    }
  }, 180_000)
})
