import {createHash} from 'node:crypto'
import {open} from 'node:fs/promises'
import {TunnelctlError} from '../errors.js'
import {fetchOrExplain, type HttpOptions, networkFailure} from './http.js'

export interface ExpectedFile {
  url: string
  /** Bytes, as the release says. */
  size: number
  /** Hex. */
  sha256: string
}

/** Told how far a download has got; total is what the server said, or the release's size. */
export type ProgressListener = (received: number, total: number) => void

/**
 * Downloads `expected.url` (redirects followed) into `file`, which must not exist yet: created 0600,
 * since it is nobody's to run until verified. Resolves only when every byte came and their sha256 is
 * the expected one; otherwise throws a TunnelctlError, and what was written is the caller's to remove.
 */
export async function downloadVerified(expected: ExpectedFile, file: string, options: HttpOptions & {onProgress?: ProgressListener}): Promise<void> {
  const response = await fetchOrExplain(expected.url, options)
  if (!response.ok || !response.body) {
    await response.body?.cancel()
    throw failed(expected.url, `the server answered ${response.status} ${response.statusText}`)
  }

  // A Content-Length of an encoded body (fetch decodes it) does not count the bytes that arrive.
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity'
  const announced = Number(response.headers.get('content-length') ?? Number.NaN)
  const total = Number.isSafeInteger(announced) && !encoded ? announced : expected.size
  const hash = createHash('sha256')
  let received = 0
  const handle = await open(file, 'wx', 0o600)
  try {
    for await (const chunk of response.body) {
      hash.update(chunk)
      await handle.write(chunk)
      received += chunk.byteLength
      options.onProgress?.(received, total)
    }
  } catch (error) {
    throw failed(expected.url, `it was cut off after ${received} of ${total} bytes: ${networkFailure(error, options.timeoutS)}`)
  } finally {
    await handle.close()
  }

  if (received !== total || received !== expected.size) {
    throw failed(expected.url, `it was cut off: ${received} bytes came, the release says ${expected.size}`)
  }

  const sha256 = hash.digest('hex')
  if (sha256 !== expected.sha256) {
    throw failed(expected.url, `its sha256 is ${sha256}, but GitHub's digest for the release asset is ${expected.sha256}: the file is not the one that was released`)
  }
}

function failed(url: string, why: string): TunnelctlError {
  return new TunnelctlError('DOWNLOAD_FAILED', `The download of ${url} failed: ${why}. Nothing was installed.`)
}
