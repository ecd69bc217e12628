import {execFileSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FIXTURE_BIN} from './cli.js'

/** How the server answers for the platform's asset, or its release entry. */
export type AssetBehaviour =
  | 'good'
  /** Bytes other than the ones the digest is of. */
  | 'tampered'
  /** The release gives `"digest": null`, as for assets uploaded before GitHub computed digests. */
  | 'no-digest'
  /** The download answers 404 with an HTML page, as GitHub does for a missing file. */
  | 'missing'
  /** Content-Length of the whole file, half of it sent, then the connection is cut. */
  | 'truncated'
  /** Headers and a first piece, then nothing until the test ends. */
  | 'stalled'

/** The fake cloudflared as a release asset: it needs nothing of the repository, only node on PATH. */
export const FAKE_CLOUDFLARED = readFileSync(join(FIXTURE_BIN, 'cloudflared'))
/** What the fake says to --version, so the tag to install when a test wants "already installed". */
export const FAKE_CLOUDFLARED_TAG = '2026.8.0'

const PLATFORM_ASSETS = [
  'cloudflared-linux-amd64',
  'cloudflared-linux-arm64',
  'cloudflared-linux-arm',
  'cloudflared-linux-386',
  'cloudflared-darwin-amd64.tgz',
  'cloudflared-darwin-arm64.tgz',
  'cloudflared-windows-amd64.exe',
  'cloudflared-windows-386.exe',
]

/**
 * GitHub's release API and its downloads, on 127.0.0.1 and a free port: GET
 * /repos/cloudflare/cloudflared/releases/tags/<tag> (any tag) or /latest answers a release with
 * every platform's asset, as GitHub's JSON has them (name, size, browser_download_url, digest); a
 * download redirects, as GitHub's does, to another path that serves the bytes. The macOS assets are
 * tarballs holding `cloudflared`. Every request's path is recorded.
 */
export class ReleaseServer {
  readonly requests: string[] = []
  behaviour: AssetBehaviour = 'good'
  /**
   * Downloads are answered only once this many release look-ups have come: installs started together
   * then all reach their download while the first is still under way, however the machine schedules them.
   */
  holdDownloadsUntilLookups = 0
  private held: Array<() => void> = []
  private readonly assets = new Map<string, Buffer>()
  private readonly server: Server
  private port = 0

  private constructor(
    latestTag: string,
    private readonly tls?: TestCertificate,
  ) {
    for (const name of PLATFORM_ASSETS) this.assets.set(name, name.endsWith('.tgz') ? tarballOf(FAKE_CLOUDFLARED) : FAKE_CLOUDFLARED)
    const answer = (request: IncomingMessage, response: ServerResponse) => this.answer(request, response, latestTag)
    this.server = tls ? createHttpsServer({key: tls.key, cert: tls.cert}, answer) : createServer(answer)
  }

  /** Over https with `tls`, as GitHub is: the client must trust its certificate (NODE_EXTRA_CA_CERTS). */
  static async start(latestTag = FAKE_CLOUDFLARED_TAG, tls?: TestCertificate): Promise<ReleaseServer> {
    const server = new ReleaseServer(latestTag, tls)
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve))
    server.port = (server.server.address() as {port: number}).port
    return server
  }

  /** TUNNELCTL_GITHUB_API. */
  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`
  }

  /** The downloads of the asset's bytes (after the redirect). */
  get downloads(): string[] {
    return this.requests.filter((path) => path.startsWith('/objects/'))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private answer(request: IncomingMessage, response: ServerResponse, latestTag: string): void {
    const path = request.url ?? '/'
    this.requests.push(path)
    const release = /^\/repos\/cloudflare\/cloudflared\/releases\/(?:tags\/([^/]+)|latest)$/.exec(path)
    if (release) {
      this.json(response, this.release(release[1] ?? latestTag))
      if (this.lookups >= this.holdDownloadsUntilLookups) for (const answer of this.held.splice(0)) answer()
      return
    }

    if (path.startsWith('/objects/') && this.lookups < this.holdDownloadsUntilLookups) {
      this.held.push(() => this.serveObject(path, response))
      return
    }

    this.serveObject(path, response)
  }

  private get lookups(): number {
    return this.requests.filter((path) => path.startsWith('/repos/')).length
  }

  private serveObject(path: string, response: ServerResponse): void {
    const download = /^\/download\/([^/]+)\/([^/]+)$/.exec(path)
    if (download && this.assets.has(download[2])) {
      response.writeHead(302, {location: `/objects/${randomBytes(8).toString('hex')}/${download[2]}`}).end()
      return
    }

    const object = /^\/objects\/[0-9a-f]+\/([^/]+)$/.exec(path)
    const bytes = object && this.assets.get(object[1])
    if (!bytes || this.behaviour === 'missing') {
      response.writeHead(404, {'content-type': 'text/html'}).end('<!DOCTYPE html><html><body>Not Found</body></html>')
      return
    }

    response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': bytes.length})
    if (this.behaviour === 'tampered') {
      const changed = Buffer.from(bytes)
      changed[changed.length - 2] ^= 1
      response.end(changed)
    } else if (this.behaviour === 'truncated') {
      response.write(bytes.subarray(0, bytes.length >> 1), () => response.destroy())
    } else if (this.behaviour === 'stalled') {
      response.write(bytes.subarray(0, 1024))
    } else {
      response.end(bytes)
    }
  }

  private release(tag: string): unknown {
    return {
      url: `${this.url}/repos/cloudflare/cloudflared/releases/1`,
      tag_name: tag,
      name: tag,
      draft: false,
      prerelease: false,
      assets: [...this.assets].map(([name, bytes], i) => ({
        id: i + 1,
        name,
        content_type: 'application/octet-stream',
        state: 'uploaded',
        size: bytes.length,
        digest: this.behaviour === 'no-digest' ? null : `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        browser_download_url: `${this.url}/download/${tag}/${name}`,
      })),
    }
  }

  private json(response: ServerResponse, body: unknown): void {
    response.writeHead(200, {'content-type': 'application/json; charset=utf-8'}).end(JSON.stringify(body))
  }
}

export interface TestCertificate {
  key: string
  cert: string
  /** The certificate's file, for NODE_EXTRA_CA_CERTS. */
  certFile: string
}

/** A self-signed certificate for 127.0.0.1, made by openssl in `dir`. */
export function testCertificate(dir: string): TestCertificate {
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], {stdio: 'ignore'})
  return {key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile}
}

/** A gzipped tarball holding one file, `cloudflared`, as cloudflared's macOS assets are made. */
function tarballOf(program: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tc-tgz-'))
  try {
    writeFileSync(join(dir, 'cloudflared'), program, {mode: 0o755})
    execFileSync('tar', ['-czf', join(dir, 'asset.tgz'), '-C', dir, 'cloudflared'])
    return readFileSync(join(dir, 'asset.tgz'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * A forward proxy as HTTP_PROXY/HTTPS_PROXY name one: it tunnels CONNECT (undici's proxy agent
 * tunnels http and https targets alike) to the address asked for, and records each.
 */
export class ConnectProxy {
  readonly tunnels: string[] = []
  private readonly server: Server = createServer((_request, response) => response.writeHead(405).end())
  /** Tunnelled sockets are the proxy's own, no longer the HTTP server's: closed by close(). */
  private readonly sockets = new Set<Socket>()
  private port = 0

  static async start(): Promise<ConnectProxy> {
    const proxy = new ConnectProxy()
    proxy.server.on('connect', (request, client, head) => {
      proxy.tunnels.push(request.url ?? '')
      const [host, port] = (request.url ?? '').split(':')
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client).pipe(upstream)
      })
      for (const socket of [client as Socket, upstream]) {
        proxy.sockets.add(socket)
        socket.once('close', () => proxy.sockets.delete(socket))
      }
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    proxy.port = (proxy.server.address() as {port: number}).port
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}
