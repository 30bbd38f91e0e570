/**
 * @module demo/zip
 * "Save all": the dataset's files as one .zip that keeps their paths, the one way to save a
 * folder from a page in every browser. Stored entries (no compression: the files are fetched
 * blocks, handed to the Blob as they are), UTF-8 names, the files' modification times. No
 * Zip64, so at most 65,535 files and 4 GiB in all; past that, save the files one by one.
 */
import { crc32 } from '../../src/core/format/crc32.js'
import { HypercoreError } from '../../src/errors.js'

export interface ZipEntry {
  /** '/'-separated path inside the zip. */
  path: string
  /** Milliseconds since the epoch (0: 1980-01-01, the earliest a zip can say). */
  modified: number
  /** The file's bytes, in pieces. */
  parts: readonly Uint8Array[]
}

const MAX = 0xffffffff

/** The zip's bytes, in pieces for a `Blob` (the file data is not copied). */
export function zipParts (entries: readonly ZipEntry[]): Uint8Array[] {
  if (entries.length > 0xffff) throw HypercoreError.BAD_ARGUMENT('too many files for one zip: save them one by one')
  const out: Uint8Array[] = []
  const central: Uint8Array[] = []
  const enc = new TextEncoder()
  let offset = 0
  for (const e of entries) {
    const name = enc.encode(e.path)
    let size = 0
    let crc = 0
    for (const p of e.parts) { size += p.byteLength; crc = crc32(p, crc) }
    if (size >= MAX || offset + 30 + name.byteLength + size >= MAX) throw HypercoreError.BAD_ARGUMENT('too large for one zip (4 GiB): save the files one by one')
    const { time, date } = dosTime(e.modified)
    const local = new DataView(new ArrayBuffer(30))
    local.setUint32(0, 0x04034b50, true)
    local.setUint16(4, 20, true) // version needed: 2.0
    local.setUint16(6, 0x0800, true) // the name is UTF-8
    local.setUint16(8, 0, true) // stored
    local.setUint16(10, time, true)
    local.setUint16(12, date, true)
    local.setUint32(14, crc, true)
    local.setUint32(18, size, true)
    local.setUint32(22, size, true)
    local.setUint16(26, name.byteLength, true)
    local.setUint16(28, 0, true)
    const cd = new DataView(new ArrayBuffer(46))
    cd.setUint32(0, 0x02014b50, true)
    cd.setUint16(4, 20, true)
    cd.setUint16(6, 20, true)
    cd.setUint16(8, 0x0800, true)
    cd.setUint16(10, 0, true)
    cd.setUint16(12, time, true)
    cd.setUint16(14, date, true)
    cd.setUint32(16, crc, true)
    cd.setUint32(20, size, true)
    cd.setUint32(24, size, true)
    cd.setUint16(28, name.byteLength, true)
    cd.setUint32(42, offset, true)
    out.push(new Uint8Array(local.buffer), name, ...e.parts)
    central.push(new Uint8Array(cd.buffer), name)
    offset += 30 + name.byteLength + size
  }
  const cdSize = central.reduce((n, p) => n + p.byteLength, 0)
  if (offset + cdSize >= MAX) throw HypercoreError.BAD_ARGUMENT('too large for one zip (4 GiB): save the files one by one')
  const end = new DataView(new ArrayBuffer(22))
  end.setUint32(0, 0x06054b50, true)
  end.setUint16(8, entries.length, true)
  end.setUint16(10, entries.length, true)
  end.setUint32(12, cdSize, true)
  end.setUint32(16, offset, true)
  return [...out, ...central, new Uint8Array(end.buffer)]
}

/** MS-DOS date and time (local time, 2-second steps), as zip keeps them. */
function dosTime (ms: number): { time: number, date: number } {
  const d = new Date(ms > 0 ? ms : 0)
  if (d.getFullYear() < 1980) return { time: 0, date: (1 << 5) | 1 }
  const year = Math.min(d.getFullYear(), 2107) - 1980
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: (year << 9) | ((d.getMonth() + 1) << 5) | d.getDate()
  }
}
