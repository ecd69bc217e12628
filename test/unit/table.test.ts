import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {renderTable} from '../../src/render/table.js'

// No terminal to fit: as wide as the widest cells, as when piped.
const UNLIMITED = Number.POSITIVE_INFINITY

beforeEach(() => {
  vi.stubEnv('NO_COLOR', '1')
})
afterEach(() => {
  vi.unstubAllEnvs()
})

describe('tables', () => {
  it('measure wide and emoji characters as the terminal shows them, two columns each', () => {
    const rows = [
      ['日本語', 'ja'],
      ['🚀', 'rocket'],
      ['café', 'fr'],
    ]
    expect(renderTable(['NAME', 'CODE'], rows, UNLIMITED)).toBe(['NAME    CODE', '日本語  ja', '🚀      rocket', 'café    fr'].join('\n'))
  })

  it('on a narrow terminal, wrap the columns of several words and keep a URL whole', () => {
    const url = 'https://harbor-clinic-copper-garden.trycloudflare.com'
    const rows = [
      ['notify.webhook', url, 'URL that every event is POSTed to as JSON (http or https).'],
      ['local.port', '18221 (default)', '漢字 漢字 漢字 漢字 漢字 漢字'],
    ]
    const text = renderTable(['KEY', 'VALUE', 'DESCRIPTION'], rows, 96)
    expect(text).toBe(
      [
        'KEY             VALUE                                                  DESCRIPTION',
        'notify.webhook  https://harbor-clinic-copper-garden.trycloudflare.com  URL that every event is',
        '                                                                       POSTed to as JSON (http',
        '                                                                       or https).',
        'local.port      18221 (default)                                        漢字 漢字 漢字 漢字 漢字',
        '                                                                       漢字',
      ].join('\n'),
    )
  })

  it('on a terminal narrower than a URL, cut no word: the lines are as long as they must be', () => {
    const rows = [['41000', 'https://harbor-clinic-copper-garden.trycloudflare.com', 'up', '3m 12s']]
    expect(renderTable(['PORT', 'URL', 'STATUS', 'UPTIME'], rows, 40)).toBe(
      ['PORT   URL                                                    STATUS  UPTIME', '41000  https://harbor-clinic-copper-garden.trycloudflare.com  up      3m 12s'].join('\n'),
    )
  })
})
