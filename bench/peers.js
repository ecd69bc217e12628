// The proxies tunnelctl's is measured beside, when installed: Caddy and nginx, each configured in a
// temporary directory of its own as a reverse proxy in front of the bench origin, listening on a free
// 127.0.0.1 port, run as the current user and stopped by pid, whatever happens.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {findFreeLoopbackPort} from '../dist/ports.js'
import {waitFor} from './harness.js'

const CADDY = '/usr/bin/caddy'
const NGINX = '/usr/sbin/nginx'

/**
 * Starts every peer that is installed. Resolves with the running ones ({name, port, headers, pids(),
 * stop()}) and, for each one that is not, {name, skipped: reason}.
 */
export async function startPeers(originPort) {
  const peers = []
  for (const [name, binary, start] of [
    ['Caddy', CADDY, startCaddy],
    ['nginx', NGINX, startNginx],
  ]) {
    if (!isExecutable(binary)) {
      peers.push({name, skipped: `${binary} is not installed`})
      continue
    }

    const dir = mkdtempSync(join(tmpdir(), `tcb-${name.toLowerCase()}-`))
    try {
      peers.push(await start(binary, dir, originPort))
    } catch (error) {
      rmSync(dir, {recursive: true, force: true})
      peers.push({name, skipped: `did not start: ${error.message.split('\n')[0]}`})
    }
  }

  return peers
}

export async function stopPeers(peers) {
  await Promise.all(peers.map((peer) => peer.stop?.()))
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function startCaddy(binary, dir, originPort) {
  const port = await findFreeLoopbackPort()
  // Admin API and automatic HTTPS off: nothing listens but the one site, nothing is written outside dir.
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{\n\tadmin off\n\tauto_https off\n}\nhttp://:${port} {\n\tbind 127.0.0.1\n\treverse_proxy 127.0.0.1:${originPort}\n}\n`,
  )
  const env = {...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config')}
  const child = spawn(binary, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {env, stdio: ['ignore', 'ignore', 'pipe']})
  return running('Caddy', child, dir, port, () => [child.pid])
}

async function startNginx(binary, dir, originPort) {
  const port = await findFreeLoopbackPort()
  const pidFile = join(dir, 'nginx.pid')
  // Run by root, nginx would hand its worker to another user, which could not write to dir.
  // One worker: one event loop, as tunnelctl's proxy has. proxy_buffering stays on, nginx's default and
  // what an nginx put in front of an app has unless someone turned it off; its temp files go to dir.
  // No cap on requests per connection: by default nginx closes one after 1000, which neither tunnelctl
  // nor Caddy does, and the load generator counts as errors.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `\t${kind}_temp_path ${join(dir, kind)};`).join('\n')
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? `user ${userInfo().username};\n` : ''}worker_processes 1;
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
\taccess_log off;
${temp}
\tmap $http_upgrade $connection_upgrade { default upgrade; '' ''; }
\tkeepalive_requests 1000000;
\tupstream app { server 127.0.0.1:${originPort}; keepalive 64; keepalive_requests 1000000; }
\tserver {
\t\tlisten 127.0.0.1:${port};
\t\tlocation / {
\t\t\tproxy_pass http://app;
\t\t\tproxy_http_version 1.1;
\t\t\tproxy_set_header Host $host;
\t\t\tproxy_set_header Upgrade $http_upgrade;
\t\t\tproxy_set_header Connection $connection_upgrade;
\t\t\tproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
\t\t}
\t}
}
`,
  )
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${pidFile};`], {stdio: ['ignore', 'ignore', 'pipe']})
  // The master and its worker, which does the proxying.
  const pids = () => [child.pid, ...childrenOf(child.pid)]
  return running('nginx', child, dir, port, pids)
}

/** Waits until the peer answers on its port, and hands back how to measure and stop it. */
async function running(name, child, dir, port, pids) {
  const stderr = []
  child.stderr.on('data', (chunk) => stderr.push(chunk))
  const exited = once(child, 'exit')
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }

    rmSync(dir, {recursive: true, force: true})
  }

  try {
    await waitFor(`${name} to answer on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${Buffer.concat(stderr).toString().trim()}`)
      return fetch(`http://127.0.0.1:${port}/`).then((response) => response.arrayBuffer().then(() => response.ok), () => false)
    })
  } catch (error) {
    await stop()
    throw error
  }

  return {name, port, headers: {}, pids, stop}
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}
