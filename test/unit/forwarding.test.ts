import {describe, expect, it} from 'vitest'
import {firstHeader, linesNamed} from '../../src/supervisor/proxy/forwarding.js'

describe('header lines by name', () => {
  it('finds a name in any case, and only that name', () => {
    const lines = ['X-Other', '0', 'CONTENT-length', '5', 'content-LENGTH', '6', 'Content_Length', '7', 'Content-Lengtj', '8']
    expect(firstHeader(lines, 'content-length')).toBe('5')
    expect(linesNamed(lines, 'content-length')).toEqual(['CONTENT-length', '5', 'content-LENGTH', '6'])
    expect(firstHeader(lines, 'x-other')).toBe('0')
    expect(firstHeader(lines, 'content-type')).toBeUndefined()
  })

  it('does not take a character 32 away from one of the name for it, unless both are letters', () => {
    // '\r' is '-' less 32, '@' is '`' less 32 and '[' is '{' less 32: none of them is an upper-case letter.
    expect(firstHeader(['x\ra', '1', 'x-a', '2'], 'x-a')).toBe('2')
    expect(firstHeader(['@', '1'], '`')).toBeUndefined()
    expect(firstHeader(['[', '1'], '{')).toBeUndefined()
  })
})
