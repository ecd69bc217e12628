import {execa} from 'execa'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, TestHome} from '../helpers/cli.js'

describe('the npm package', () => {
  const out = mkdtempSync(join(tmpdir(), 'tc-pack-'))
  let tarball: string
  let filename: string
  let t: TestHome

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
    const env = {...t.env, npm_config_cache: join(out, 'npm-cache')}
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
})
