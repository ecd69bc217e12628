import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {promisify} from 'node:util'
import {findFreeLoopbackPort} from '../../src/ports.js'
import {ManagedProcess} from '../../src/process/managed-process.js'

const SSHD = '/usr/sbin/sshd'
const READY_WITHIN_MS = 10_000
const STOP_GRACE_MS = 3000

/** Why a real sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: install openssh-server (apt-get install openssh-server) to run them.`
  return undefined
}

/**
 * A real OpenSSH server on 127.0.0.1 and a free high port, that lets this user in with a key of its
 * own and allows remote forwards: the far end of `ssh -R` tunnels, with no network beyond loopback.
 */
export class Sshd {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(): Promise<Sshd> {
    const dir = mkdtempSync(join(tmpdir(), 'tcsshd-'))
    try {
      await Promise.all([keygen(join(dir, 'host_key')), keygen(join(dir, 'client_key'))])
      writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')))
      const port = await findFreeLoopbackPort()
      writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port))
      // As root, sshd chroots its pre-auth child there and refuses to start without it.
      if (process.getuid?.() === 0) mkdirSync('/run/sshd', {recursive: true, mode: 0o755})
      const child = await ManagedProcess.spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {env: process.env})
      const sshd = new Sshd(port, dir, child)
      try {
        await sshd.accepting()
      } catch (error) {
        await sshd.stop()
        throw error
      }

      return sshd
    } catch (error) {
      rmSync(dir, {recursive: true, force: true})
      throw error
    }
  }

  /**
   * A custom.<name>.command: a reverse tunnel from a port sshd picks to {port}. sshd names the port
   * on stderr: `Allocated port 34635 for remote forward to 127.0.0.1:18090`. sshPort points it elsewhere.
   */
  reverseTunnelCommand(sshPort = this.port): string {
    // -F /dev/null: no ~/.ssh/config (a LogLevel QUIET there would hide the line) and no system defaults.
    return [
      'ssh -F /dev/null -N -R 0:127.0.0.1:{port}',
      `-p ${sshPort} -i ${join(this.dir, 'client_key')} -o IdentitiesOnly=yes`,
      `-o StrictHostKeyChecking=no -o UserKnownHostsFile=${join(this.dir, 'known_hosts')}`,
      '-o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=15',
      `${userInfo().username}@127.0.0.1`,
    ].join(' ')
  }

  /** Stops sshd and removes its files. Its per-connection children end with their clients. */
  async stop(): Promise<void> {
    await this.process.stop(STOP_GRACE_MS)
    rmSync(this.dir, {recursive: true, force: true})
  }

  private async accepting(): Promise<void> {
    const deadline = Date.now() + READY_WITHIN_MS
    while (!(await canConnect(this.port))) {
      if (this.process.hasExited || Date.now() > deadline) {
        const why = this.process.hasExited ? 'exited' : `accepted no connection within ${READY_WITHIN_MS / 1000}s`
        throw new Error(`sshd ${why}:\n${this.process.lastLines().join('\n')}`)
      }

      await delay(50)
    }
  }
}

function sshdConfig(dir: string, port: number): string {
  return `${[
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AllowUsers ${userInfo().username}`,
    // CI runs the tests as root: let root in, by key only.
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AllowTcpForwarding yes',
    'GatewayPorts no',
    // Its log, on stderr, is what a failing test shows.
    'LogLevel INFO',
  ].join('\n')}\n`
}

async function keygen(file: string): Promise<void> {
  await promisify(execFile)('ssh-keygen', ['-t', 'ed25519', '-N', '', '-q', '-C', 'tunnelctl-test', '-f', file])
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
