import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {type EndpointRecord, EndpointStore} from '../../src/endpoint-store.js'

const HASH = '$2b$10$0Ex7bMmqU3ZyPsfTP3HrPeGBr0yJ2cCV8yPq1FpQ2uGXQdGq0b7lS'
const record = (changes: Partial<EndpointRecord> = {}): EndpointRecord => ({
  version: 1,
  id: 'a1b2c3d4',
  name: 'a1b2c3d4',
  provider: 'local',
  mode: 'private',
  target: {kind: 'port', port: 3000},
  auth: {username: 'tunnelctl', bcrypt: HASH},
  createdAt: '2026-11-21T05:00:00.000Z',
  ...changes,
})

/** The record as the file holds it. */
const onDisk = {...record(), target: '3000'}

let dir: string
let store: EndpointStore
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'tc-store-')), 'expose', 'endpoints')
  store = new EndpointStore(dir)
})
afterEach(() => rmSync(join(dir, '..', '..'), {recursive: true, force: true}))

describe('the endpoint store', () => {
  it('writes a 0600 file in a 0700 directory, and reads back what it wrote', async () => {
    await store.write(record({target: {kind: 'unix', path: '/run/app.sock'}}))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'a1b2c3d4.json')).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(join(dir, 'a1b2c3d4.json'), 'utf8')).target).toBe('unix:/run/app.sock')
    expect(await store.readAll()).toEqual({records: [record({target: {kind: 'unix', path: '/run/app.sock'}})], broken: []})
  })

  it('replaces a file by renaming a complete new one over it, leaving no temporary file', async () => {
    await store.write(record())
    const before = statSync(join(dir, 'a1b2c3d4.json')).ino
    await store.write(record({auth: null}))
    expect(statSync(join(dir, 'a1b2c3d4.json')).ino).not.toBe(before)
    expect(readdirSync(dir)).toEqual(['a1b2c3d4.json'])
    expect((await store.readAll()).records[0].auth).toBeNull()
  })

  it.each([
    ['not JSON', '{"version": 1,', /JSON/],
    ['an array', '[]', /not a JSON object/],
    ['a newer version', JSON.stringify({...onDisk, version: 2}), /version 2 is newer than this tunnelctl reads \(1\)/],
    ['no version', JSON.stringify({...onDisk, version: undefined}), /unknown version/],
    ['another id than its name', JSON.stringify({...onDisk, id: 'ffffffff'}), /named for a1b2c3d4/],
    ['a bad mode', JSON.stringify({...onDisk, mode: 'open'}), /"mode"/],
    ['a bad target', JSON.stringify({...onDisk, target: 'port 3000'}), /"target"/],
    ['a plain-text password for a hash', JSON.stringify({...onDisk, auth: {username: 'tunnelctl', bcrypt: 'hunter2'}}), /bcrypt hash/],
    ['no createdAt', JSON.stringify({...onDisk, createdAt: 'yesterday'}), /createdAt/],
    ['a lastUrl that is no http(s) URL', JSON.stringify({...onDisk, lastUrl: 'javascript:alert(1)'}), /"lastUrl" must be an http\(s\) URL/],
    ['a relative directory in its search path', JSON.stringify({...onDisk, searchPath: '/usr/bin:bin'}), /"searchPath" holds "bin", which is not an absolute directory/],
    ['a search path that is not a string', JSON.stringify({...onDisk, searchPath: ['/usr/bin']}), /"searchPath" must be a string/],
    ['a listenPort out of range', JSON.stringify({...onDisk, listenPort: 70_000}), /"listenPort" must be a port/],
    ['a listenPort that is text', JSON.stringify({...onDisk, listenPort: '18221'}), /"listenPort" must be a port/],
  ])('reports a file with %s as broken, with why, and leaves it as it is', async (_, content, why) => {
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'a1b2c3d4.json'), content)
    await store.write(record({id: 'b2c3d4e5', name: 'b2c3d4e5'}))
    const {records, broken} = await store.readAll()
    expect(records.map((r) => r.id)).toEqual(['b2c3d4e5'])
    expect(broken).toEqual([{id: 'a1b2c3d4', file: join(dir, 'a1b2c3d4.json'), reason: expect.stringMatching(why)}])
    expect(readFileSync(join(dir, 'a1b2c3d4.json'), 'utf8')).toBe(content)
  })

  it('keeps the URL last known, and reads a file from before it was kept', async () => {
    await store.write(record({lastUrl: 'https://a-b-c.trycloudflare.com'}))
    expect((await store.readAll()).records).toEqual([record({lastUrl: 'https://a-b-c.trycloudflare.com'})])
    writeFileSync(join(dir, 'a1b2c3d4.json'), JSON.stringify(onDisk))
    expect((await store.readAll()).records[0]).not.toHaveProperty('lastUrl', expect.anything())
  })

  it('lands the last of several writes and removals of one file, whatever order they finish in, and rewrite does not bring back a removed file', async () => {
    const writes = [store.write(record({lastUrl: 'https://one.example'})), store.write(record({auth: null}))]
    await Promise.all(writes)
    expect((await store.readAll()).records).toEqual([record({auth: null})])
    await Promise.all([store.remove('a1b2c3d4'), store.rewrite(record())])
    expect(readdirSync(dir)).toEqual([])
  })

  it('keeps the PATH saved with an endpoint, and reads a file without one (written before there was one) as it is', async () => {
    await store.write(record({searchPath: '/opt/cloudflared/bin:/usr/bin'}))
    expect(JSON.parse(readFileSync(join(dir, 'a1b2c3d4.json'), 'utf8')).searchPath).toBe('/opt/cloudflared/bin:/usr/bin')
    expect((await store.readAll()).records).toEqual([record({searchPath: '/opt/cloudflared/bin:/usr/bin'})])

    writeFileSync(join(dir, 'a1b2c3d4.json'), JSON.stringify(onDisk))
    const {records, broken} = await store.readAll()
    expect(broken).toEqual([])
    expect(records).toEqual([record()])
    expect(records[0]).not.toHaveProperty('searchPath')
  })

  it("keeps a local endpoint's listenPort, and reads a file from before it was kept without one", async () => {
    await store.write(record({listenPort: 18_222}))
    expect(JSON.parse(readFileSync(join(dir, 'a1b2c3d4.json'), 'utf8')).listenPort).toBe(18_222)
    expect((await store.readAll()).records).toEqual([record({listenPort: 18_222})])

    writeFileSync(join(dir, 'a1b2c3d4.json'), JSON.stringify(onDisk))
    const {records} = await store.readAll()
    expect(records).toEqual([record()])
    expect(records[0]).not.toHaveProperty('listenPort')
  })

  it('keeps an https target with its scheme, and reads a target without one (every file from before) as plain http', async () => {
    const https = record({target: {kind: 'port', port: 8443, scheme: 'https'}})
    await store.write(https)
    expect(JSON.parse(readFileSync(join(dir, 'a1b2c3d4.json'), 'utf8')).target).toBe('https://localhost:8443')
    expect((await store.readAll()).records).toEqual([https])

    writeFileSync(join(dir, 'a1b2c3d4.json'), JSON.stringify(onDisk))
    expect((await store.readAll()).records).toEqual([record()])

    writeFileSync(join(dir, 'a1b2c3d4.json'), JSON.stringify({...onDisk, target: 'https://example.com:8443'}))
    expect((await store.readAll()).broken[0].reason).toMatch(/^"target": "https:\/\/example\.com:8443" is not on this machine/)
  })

  it('reads an absent directory as no endpoints', async () => {
    expect(await store.readAll()).toEqual({records: [], broken: []})
  })
})
