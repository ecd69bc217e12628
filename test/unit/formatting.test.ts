import {describe, expect, it} from 'vitest'
import {parseTimeoutSeconds} from '../../src/cli/parse.js'
import {parsePortArgument} from '../../src/ports.js'
import {formatUptime} from '../../src/render/uptime.js'

describe('uptime', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [192_000, '3m 12s'],
    [2 * 3600_000 + 3 * 60_000 + 59_000, '2h 3m'],
    [28 * 3600_000, '1d 4h'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatUptime(ms)).toBe(text)
  })
})

describe('port arguments', () => {
  it.each(['1', '3000', '65535'])('accepts %s', (input) => {
    expect(parsePortArgument(input)).toBe(Number(input))
  })

  it.each(['abc', '0', '70000', '30.5', '-1', ' 80', '80 ', '0x10', '+80', '1e3', '', '999999999999'])('refuses "%s" as bad input', (input) => {
    expect(() => parsePortArgument(input)).toThrow(expect.objectContaining({code: 'BAD_INPUT', exitCode: 2}))
  })
})

describe('--timeout', () => {
  it('takes seconds, fractions included', () => {
    expect(parseTimeoutSeconds('30')).toBe(30_000)
    expect(parseTimeoutSeconds('2.5')).toBe(2500)
  })

  it.each(['0', '-1', 'abc', '601', '1e3', ''])('refuses "%s"', (input) => {
    expect(() => parseTimeoutSeconds(input)).toThrow(expect.objectContaining({code: 'BAD_INPUT'}))
  })
})
