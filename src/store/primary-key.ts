/**
 * @module store/primary-key
 * The store's primary key, the secret every named core's key pair is derived from: 32 bytes
 * at the start of the `primary-key` file, written with a random key on first open (or the
 * key given), as corestore@6 does. A given key is used but not written over a stored one
 * (corestore@6's rule; `overwrite` writes it).
 */
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { randomBytes } from '../crypto/sign.js'
import { promisify } from '../storage/promises.js'
import type { RandomAccessStorage } from '../storage/types.js'

export async function loadPrimaryKey (file: RandomAccessStorage, given: Uint8Array | null, overwrite: boolean): Promise<Uint8Array> {
  const io = promisify(file)
  let size = 0
  if (file.statable) {
    try {
      size = (await io.stat()).size
    } catch (err) {
      // A storage that reports a missing file by failing stat (npm's random-access-file).
      if ((err as { cause?: { code?: unknown } }).cause?.code !== 'ENOENT') throw err
    }
  } else {
    size = await io.read(0, 32).then(() => 32, () => 0)
  }
  if (size < 32 || overwrite) {
    const key = given ?? randomBytes(32)
    await io.write(0, key)
    return b4a.from(key)
  }
  if (given !== null) return b4a.from(given)
  const key = await io.read(0, 32)
  if (key.byteLength !== 32) throw HypercoreError.STORAGE_IO('the primary key file is short')
  return b4a.from(key)
}
