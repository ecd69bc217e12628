import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {writeFileAtomically, writeFileAtomicallySync} from '../../src/atomic-file.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tc-atomic-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe.each([
  ['writeFileAtomically', writeFileAtomically],
  ['writeFileAtomicallySync', async (file: string, content: string) => writeFileAtomicallySync(file, content)],
])('%s', (_name, write) => {
  it('replaces a file with the new content, owner-only, and leaves no temp file beside it', async () => {
    const file = join(dir, 'state.json')
    writeFileSync(file, '{"old":true}', {mode: 0o644})
    await write(file, '{"new":true}\n')
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}\n')
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600')
    expect(readdirSync(dir)).toEqual(['state.json'])
  })

  it('fails with the reason, and leaves nothing, when the directory is not there', async () => {
    await expect(write(join(dir, 'missing', 'state.json'), '{}')).rejects.toThrow(/ENOENT/)
    expect(readdirSync(dir)).toEqual([])
  })
})
