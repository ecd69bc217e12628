import {TunnelctlError} from '../../errors.js'
import type {Started} from '../../process/kept-alive.js'
import {describeExit, type ManagedProcess} from '../../process/managed-process.js'
import {spawnUntilReady, withLastLines} from '../../process/spawn-until-ready.js'
import {envWithSearchPath} from '../find-executable.js'
import type {Publication} from '../provider.js'

export interface CustomCommandOptions {
  /** The provider's name, for messages. */
  name: string
  /** The shell command, {port} already replaced. */
  command: string
  /** Tried on every line of output, stdout and stderr alike. */
  match: RegExp
  /** {0} is the whole match, {1}… its groups. */
  urlTemplate: string
  timeoutMs: number
  /** The PATH the shell runs the command with: the caller's; this process's own when undefined. */
  searchPath: string | undefined
  stopGraceMs: number
  signal: AbortSignal
  onSpawn(child: ManagedProcess): void
}

/**
 * Runs the command with /bin/sh and resolves once a line of its output matches, with the URL built
 * from that line. On any failure the command is stopped before the promise rejects.
 */
export async function startCustomCommand(options: CustomCommandOptions): Promise<Started<Publication>> {
  const outcome = await spawnUntilReady('/bin/sh', ['-c', options.command], {
    env: envWithSearchPath(options.searchPath),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    stopGraceMs: options.stopGraceMs,
    onSpawn: options.onSpawn,
    // readline ends lines at \r\n as well as \n, so ssh's CRLF lines arrive without their \r.
    ready: (line) => options.match.exec(line) ?? undefined,
  })
  const pattern = `/${options.match.source}/`
  let what: string
  if (outcome.ready) {
    const url = fillTemplate(options.urlTemplate, outcome.value)
    if (isHttpUrl(url)) return {process: outcome.process, value: {url, host: new URL(url).host}}
    await outcome.process.stop(options.stopGraceMs)
    what =
      `The line "${outcome.value.input}" matched, but custom.${options.name}.url makes "${url}" of it, which is not an http(s) URL. ` +
      `Fix it with \`tunnelctl config set custom.${options.name}.url <template>\`, e.g. "https://{1}".`
  } else {
    what = {
      exited: `The ${options.name} command exited with ${describeExit(outcome.exit)} before it printed a line matching ${pattern}.`,
      timeout: `The ${options.name} command printed no line matching ${pattern} within ${options.timeoutMs / 1000}s; it was stopped.`,
      aborted: `The ${options.name} command was stopped before it printed a line matching ${pattern}.`,
    }[outcome.why]
  }

  const lastLines = outcome.ready ? outcome.process.lastLines() : outcome.lastLines
  throw new TunnelctlError('TUNNEL_FAILED', withLastLines(what, `The ${options.name} command's last lines`, lastLines))
}

function fillTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(/\{(\d+)\}/g, (_, group: string) => match[Number(group)] ?? '')
}

function isHttpUrl(url: string): boolean {
  return URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol)
}
