import {describe, expect, it} from 'vitest'
import {runCommand} from '../../src/process/run.js'

describe('runCommand says which way a command failed', () => {
  it('exit 0: its output as printed, and no failure', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2'], {timeoutMs: 10_000})
    expect(result).toMatchObject({exitCode: 0, stdout: 'out\n', stderr: 'err\n', failure: undefined, timedOut: false, notRun: undefined})
  })

  it('an exit status, with what it printed', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'echo broken >&2; exit 3'], {timeoutMs: 10_000})
    expect(result).toMatchObject({exitCode: 3, stderr: 'broken\n', failure: 'it exited with code 3', notRun: undefined})
  })

  it('a program that is not there never ran', async () => {
    const result = await runCommand('/nonexistent/tool', ['--version'], {timeoutMs: 10_000})
    expect(result.notRun?.code).toBe('ENOENT')
    expect(result.exitCode).toBeUndefined()
    expect(result.failure).toMatch(/^it could not be run: .*ENOENT/)
  })

  it('one that does not answer in time is ended', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'exec sleep 30'], {timeoutMs: 200})
    expect(result).toMatchObject({timedOut: true, failure: 'it gave no answer within 0.2 s', notRun: undefined})
  })

  it('one ended by a signal', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'kill -KILL $$'], {timeoutMs: 10_000})
    expect(result).toMatchObject({exitCode: undefined, failure: 'it was ended by signal SIGKILL', notRun: undefined})
  })

  it('gets the environment it is given and nothing of ours', async () => {
    const result = await runCommand('/usr/bin/env', [], {timeoutMs: 10_000, env: {ONLY: 'this'}})
    expect(result.stdout).toBe('ONLY=this\n')
  })
})
