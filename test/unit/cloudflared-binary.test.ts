import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {Settings} from '../../src/config/settings.js'
import {resolvePaths} from '../../src/paths.js'
import {type CloudflaredSources, cloudflaredSources, findCloudflared} from '../../src/providers/cloudflare/cloudflared-binary.js'

let dir: string
let onPath: string
let configured: string
let installed: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tc-find-'))
  for (const sub of ['path', 'chosen', 'bin']) mkdirSync(join(dir, sub))
  onPath = join(dir, 'path', 'cloudflared')
  configured = join(dir, 'chosen', 'cloudflared')
  installed = join(dir, 'bin', 'cloudflared')
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const program = (file: string) => writeFileSync(file, '#!/bin/sh\n', {mode: 0o755})
const sources = (setting?: string): CloudflaredSources => ({configured: () => setting, installed})

describe('findCloudflared: cloudflared.path, then the caller\'s PATH, then the installed copy', () => {
  it('cloudflared.path comes first, even with one on PATH and one installed', async () => {
    for (const file of [onPath, configured, installed]) program(file)
    expect(await findCloudflared(join(dir, 'path'), sources(configured))).toEqual({file: configured, from: 'cloudflared.path'})
  })

  it('without cloudflared.path, the first on the search path comes before the installed copy', async () => {
    program(onPath)
    program(installed)
    expect(await findCloudflared(join(dir, 'path'), sources())).toEqual({file: onPath, from: 'PATH'})
  })

  it('the installed copy when the search path has none', async () => {
    program(installed)
    expect(await findCloudflared(join(dir, 'path'), sources())).toEqual({file: installed, from: 'installed'})
  })

  it('none anywhere: CLOUDFLARED_NOT_FOUND, naming `tunnelctl cloudflared install`', async () => {
    writeFileSync(installed, 'not executable', {mode: 0o644})
    await expect(findCloudflared(join(dir, 'path'), sources())).rejects.toMatchObject({
      code: 'CLOUDFLARED_NOT_FOUND',
      message: expect.stringContaining('Get it with `tunnelctl cloudflared install`'),
    })
  })

  it('a cloudflared.path that is not executable is an error, not a reason to run another one', async () => {
    program(onPath)
    await expect(findCloudflared(join(dir, 'path'), sources(configured))).rejects.toMatchObject({
      code: 'CLOUDFLARED_NOT_FOUND',
      message: `cloudflared.path is set to ${configured}, which is not an executable file. Point it at cloudflared with \`tunnelctl config set cloudflared.path <file>\`, or unset it with \`tunnelctl config unset cloudflared.path\`.`,
    })
  })

  it('reads cloudflared.path from the settings afresh, as a running supervisor must', async () => {
    program(onPath)
    program(configured)
    const paths = resolvePaths({TUNNELCTL_HOME: dir})
    const settings = new Settings(paths)
    const fromSettings = cloudflaredSources(settings, paths.installedCloudflared)
    expect(paths.installedCloudflared).toBe(join(dir, 'bin', 'cloudflared'))
    expect((await findCloudflared(join(dir, 'path'), fromSettings)).from).toBe('PATH')
    await settings.set('cloudflared.path', configured)
    expect(await findCloudflared(join(dir, 'path'), fromSettings)).toEqual({file: configured, from: 'cloudflared.path'})
  })

  it('cloudflared.path must be absolute', async () => {
    const settings = new Settings(resolvePaths({TUNNELCTL_HOME: dir}))
    await expect(settings.set('cloudflared.path', 'bin/cloudflared')).rejects.toMatchObject({code: 'BAD_INPUT', message: expect.stringContaining('must be an absolute path')})
  })
})
