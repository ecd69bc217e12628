import {constants} from 'node:fs'
import {access, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import type {Check} from './check.js'
import {shellWord} from './shell-word.js'

// Where cloudflared looks for a config when it is given no --config, in its order; it uses the
// first file it can open (FindDefaultConfigPath in cloudflared's config/configuration.go).
const USER_DIRS = ['.cloudflared', '.cloudflare-warp', 'cloudflare-warp']
const SYSTEM_DIRS = ['/etc/cloudflared', '/usr/local/etc/cloudflared']
const NAMES = ['config.yml', 'config.yaml']

/**
 * A config that every plain cloudflared run picks up. tunnelctl passes an isolated --config, so its
 * own tunnels are safe; a `cloudflared tunnel --url` typed by hand is not: the file's ingress rules
 * replace --url, and every request gets their catch-all.
 */
export async function checkCloudflaredConfig(home: string | undefined): Promise<Check> {
  const found = await findDefaultConfig(home)
  if (!found) return {id: 'cloudflared-config', status: 'ok', summary: 'none where cloudflared looks for one by default'}
  const effect = /^ingress\s*:/m.test(found.text)
    ? 'its ingress rules send plain `cloudflared tunnel --url` runs to their catch-all instead of the --url'
    : 'its settings apply to every plain cloudflared run'
  const aside = `${found.file}.bak`
  const mv = `mv ${shellWord(found.file)} ${shellWord(aside)}`
  return {
    id: 'cloudflared-config',
    status: 'warn',
    summary: `${found.file}: ${effect}. tunnelctl's own tunnels pass an isolated --config and are not affected.`,
    fix: `Move it aside: ${(await isWritable(dirname(found.file))) ? mv : `sudo ${mv}`} (a named tunnel that needs it can be run with --config ${shellWord(aside)})`,
  }
}

async function findDefaultConfig(home: string | undefined): Promise<{file: string; text: string} | undefined> {
  const dirs = [...(home ? USER_DIRS.map((dir) => join(home, dir)) : []), ...SYSTEM_DIRS]
  for (const file of dirs.flatMap((dir) => NAMES.map((name) => join(dir, name)))) {
    try {
      return {file, text: await readFile(file, 'utf8')}
    } catch {}
  }

  return undefined
}

async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}
