/** @module test/core/format/crc32 — CRC-32 against known values and node:zlib. */
import { test } from 'node:test'
import * as zlib from 'node:zlib'
import { crc32 } from '../../../src/core/format/crc32.js'
import { equal, fromHex } from '../../helpers/assert.js'

const enc = new TextEncoder()

test('crc32: known vectors', () => {
  equal(crc32(new Uint8Array(0)), 0)
  equal(crc32(enc.encode('123456789')), 0xcbf43926, 'check value')
  equal(crc32(enc.encode('The quick brown fox jumps over the lazy dog')), 0x414fa339)
  equal(crc32(enc.encode('a')), 0xe8b7be43)
  equal(crc32(new Uint8Array(4)), 0x2144df1c, 'four zero bytes: an all-zero oplog frame never checks')
  // the oplog vector: crc over word ‖ payload of the entry for appending "b" (spec §6.1)
  const v = fromHex('35020000' + '0e020201520abb1082986713dabf6862ccfe1bb6b87037647d0019b31219493ef186597c01029cac92aaed9e7d11eb629465684582ce39cb496303998de123533b09e16f2f060001024085441bcb4602f2a4eeef01e06240c322835f3dc3d5bf6ceacf5f74d7b92116127c35f8ffcf0a7ad22a401ea99031bf6e8a28cd92456fa2de764feac2da2d4e09000101')
  equal(crc32(v), 0xc4d44535)
})

test('crc32: matches node:zlib crc32 on random data, every length 0..300 and odd offsets', () => {
  const z = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32
  equal(typeof z, 'function', 'Node 20.15+ has zlib.crc32')
  const buf = new Uint8Array(4096)
  let s = 12345
  for (let i = 0; i < buf.length; i++) { s = (s * 1103515245 + 12345) >>> 0; buf[i] = s >>> 24 }
  for (let n = 0; n <= 300; n++) {
    for (const off of [0, 1, 3]) {
      const part = buf.subarray(off, off + n)
      equal(crc32(part), z!(part), `len ${n} off ${off}`)
      equal(crc32(buf, 0, off, off + n), z!(part), `range form len ${n} off ${off}`)
    }
  }
  equal(crc32(buf), z!(buf), 'whole 4096')
})

test('crc32: incremental equals one-shot', () => {
  const a = enc.encode('hello, ')
  const b = enc.encode('world')
  const ab = enc.encode('hello, world')
  equal(crc32(b, crc32(a)), crc32(ab))
})

test('crc32: the Node platform version (zlib) equals the portable one, with offsets and chaining', async () => {
  const { crc32: nodeCrc32 } = await import('../../../src/core/format/crc32.node.js')
  const data = new Uint8Array(1000)
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff
  for (const [start, end] of [[0, 1000], [0, 0], [3, 700], [999, 1000], [17, 18]] as const) {
    equal(nodeCrc32(data, 0, start, end), crc32(data, 0, start, end), `[${start}, ${end})`)
    equal(nodeCrc32(data, 0x12345678, start, end), crc32(data, 0x12345678, start, end), `chained [${start}, ${end})`)
  }
})
