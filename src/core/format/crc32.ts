/**
 * @module core/format/crc32
 * Standard CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init/xorout 0xFFFFFFFF): the
 * same function as zlib's `crc32`. The oplog checksums every frame with it (spec §6.1), so it
 * must match zlib bit for bit. Table-driven, slicing-by-4 for throughput on big entries.
 */

const POLY = 0xedb88320

/** 4 × 256 tables: T[0] is the classic byte table, T[k] advances a byte k positions further. */
const TABLES: Uint32Array = _makeTables()

function _makeTables (): Uint32Array {
  const t = new Uint32Array(4 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (POLY ^ (c >>> 1)) : (c >>> 1)
    t[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c >>> 0
    }
  }
  return t
}

/**
 * CRC-32 of `data[start, end)`, continuing from `prev` (the unsigned result of an earlier call,
 * 0 for a fresh checksum), so `crc32(b, crc32(a)) === crc32(a ‖ b)` as with zlib.
 * Returns an unsigned 32-bit integer.
 */
export function crc32 (data: Uint8Array, prev = 0, start = 0, end = data.byteLength): number {
  const t = TABLES
  let c = (prev ^ 0xffffffff) | 0
  let i = start
  // Slicing-by-4: fold 4 input bytes into the register per step.
  const stop4 = end - ((end - i) & 3)
  while (i < stop4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[(c >>> 24) & 0xff]!
    i += 4
  }
  while (i < end) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
