import {chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import QRCode from 'qrcode'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {FIXTURE_BIN, isAlive, TestHome, waitFor} from '../helpers/cli.js'
import {unusedPort} from '../helpers/ports.js'

let t: TestHome
let bin: string
beforeEach(() => {
  t = new TestHome()
  bin = mkdtempSync(join(tmpdir(), 'tc-bin-'))
})
afterEach(async () => {
  rmSync(bin, {recursive: true, force: true})
  expect(await t.cleanup(), 'processes left behind').toEqual([])
})

/**
 * Reads back the picture that qrcode's small terminal renderer draws: each character is two
 * pixels, top and bottom, each in the foreground or background colour in force (SGR 30/37 and
 * 40/47, 0 for the terminal's own). Returns the dark (true) and light (false) pixels of the
 * rectangle drawn in colours; the terminal's own colour is only around it.
 */
function readTerminalPicture(text: string): boolean[][] {
  const pixels: Array<Array<boolean | null>> = []
  let fg: boolean | null = null
  let bg: boolean | null = null
  const sgr: Record<string, () => void> = {
    0: () => (fg = bg = null),
    30: () => (fg = true),
    37: () => (fg = false),
    40: () => (bg = true),
    47: () => (bg = false),
  }
  for (const line of text.split('\n')) {
    const top: Array<boolean | null> = []
    const bottom: Array<boolean | null> = []
    for (const [, code, glyph] of line.matchAll(/\x1b\[(\d+)m|(.)/gu)) {
      if (code !== undefined) {
        expect(sgr[code], `an SGR code the renderer uses, not ${code}`).toBeDefined()
        sgr[code]()
        continue
      }

      expect(' ▀▄█', `a block character, not ${JSON.stringify(glyph)}`).toContain(glyph)
      top.push(glyph === '▀' || glyph === '█' ? fg : bg)
      bottom.push(glyph === '▄' || glyph === '█' ? fg : bg)
    }

    pixels.push(top, bottom)
  }

  const drawn = pixels.map((row) => row.flatMap((pixel, x) => (pixel === null ? [] : [x])))
  const rows = drawn.flatMap((xs, y) => (xs.length > 0 ? [y] : []))
  const left = Math.min(...drawn.flat())
  const right = Math.max(...drawn.flat())
  return pixels.slice(rows[0], rows.at(-1)! + 1).map((row) => row.slice(left, right + 1).map((pixel) => {
    expect(pixel, 'a pixel inside the picture in the terminal\'s own colour').not.toBeNull()
    return pixel!
  }))
}

/** The modules of the QR code for `url`, from the package that drew it, with the one light module of margin the small renderer draws. */
function expectedPicture(url: string): boolean[][] {
  const {size, data} = QRCode.create(url).modules
  const light = Array<boolean>(size + 2).fill(false)
  const rows = Array.from({length: size}, (_, y) => [false, ...Array.from({length: size}, (_, x) => Boolean(data[y * size + x])), false])
  return [light, ...rows, light]
}

/**
 * A stand-in for xdg-open that writes its pid, then the arguments it was given, one a line, to
 * $FAKE_XDG_OPEN_RECORD, and stays, as a browser it started would.
 */
function fakeXdgOpen(): void {
  const file = join(bin, 'xdg-open')
  writeFileSync(file, '#!/bin/sh\nprintf \'%s\\n\' "$$" "$@" > "$FAKE_XDG_OPEN_RECORD.part" && mv "$FAKE_XDG_OPEN_RECORD.part" "$FAKE_XDG_OPEN_RECORD"\nexec sleep 60\n')
  chmodSync(file, 0o755)
}

const urlIn = (stdout: string) => /https:\/\/\S+\.trycloudflare\.com/.exec(stdout)?.[0]

describe('--qr', () => {
  it('tunnel start --qr prints, under the URL, a QR code that reads back as the URL', async () => {
    const port = await unusedPort()
    const result = await t.run(['tunnel', 'start', String(port), '--qr'])
    expect(result.exitCode, result.stderr).toBe(0)
    const [first, ...picture] = result.stdout.split('\n')
    const url = urlIn(first)
    expect(first).toBe(`Forwarding ${url} -> http://localhost:${port}`)
    expect(readTerminalPicture(picture.join('\n'))).toEqual(expectedPicture(url!))
  })

  it('expose start --qr draws the endpoint\'s URL', async () => {
    const port = await unusedPort()
    const result = await t.run(['expose', 'start', String(port), '--provider', 'cloudflare', '--qr'])
    expect(result.exitCode, result.stderr).toBe(0)
    const [first, ...picture] = result.stdout.split('\n')
    expect(first).toMatch(/^Endpoint [\da-f]{8} is up: https:\/\/\S+ -> localhost:\d+ \(cloudflare\)$/)
    expect(readTerminalPicture(picture.join('\n'))).toEqual(expectedPicture(urlIn(first)!))
  })
})

describe('--open', () => {
  it('runs xdg-open from PATH with the URL, and exits without waiting for it', async () => {
    const record = join(bin, 'opened')
    fakeXdgOpen()
    const port = await unusedPort()
    const env = {PATH: [bin, t.env.PATH].join(delimiter), FAKE_XDG_OPEN_RECORD: record, WSL_DISTRO_NAME: undefined}
    const result = await t.run(['tunnel', 'start', String(port), '--open'], env)
    expect(result.exitCode, result.stderr).toBe(0)
    const url = urlIn(result.stdout)
    expect(url, result.stdout).toBeDefined()
    const opened = await waitFor('the fake xdg-open to record what it was given', () => {
      try {
        return readFileSync(record, 'utf8')
      } catch {
        return undefined
      }
    })
    const [pid, ...args] = opened.trimEnd().split('\n')
    try {
      expect(args).toEqual([url])
      expect(isAlive(Number(pid)), 'the opener still running when the command had exited').toBe(true)
    } finally {
      process.kill(Number(pid), 'SIGKILL')
    }
  })

  it('without an opener, warns and still succeeds', async () => {
    // PATH holds the fake cloudflared and node (its interpreter), and no xdg-open: the machine's may be beside node.
    symlinkSync(process.execPath, join(bin, 'node'))
    const port = await unusedPort()
    const result = await t.run(['tunnel', 'start', String(port), '--open'], {PATH: [FIXTURE_BIN, bin].join(delimiter), WSL_DISTRO_NAME: undefined})
    expect(result.exitCode, result.stderr).toBe(0)
    const url = urlIn(result.stdout)
    expect(result.stderr).toContain(`Warning: No browser to open ${url} in: xdg-open is not on PATH. Open it yourself, or use --qr.`)
    expect((await t.json(['tunnel', 'list'])).body).toEqual([expect.objectContaining({port, url, status: 'up'})])
  })
})

describe('with --json', () => {
  it.each(['--qr', '--open'])('%s is refused with exit 2, and nothing is started', async (flag) => {
    const result = await t.run(['tunnel', 'start', String(await unusedPort()), flag, '--json'])
    expect(JSON.parse(result.stdout)).toEqual({
      error: {code: 'BAD_INPUT', message: `${flag} is for a person at a terminal, --json for a script: leave out one of them.`},
    })
    expect(result.exitCode).toBe(2)
    expect(t.supervisorPid(), 'no supervisor started').toBeUndefined()
    const expose = await t.run(['expose', 'start', '3000', '--provider', 'cloudflare', flag, '--json'])
    expect(expose.exitCode).toBe(2)
    expect(t.supervisorPid(), 'no supervisor started').toBeUndefined()
  })
})
