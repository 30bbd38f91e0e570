/** @module test/core/format/oplog-encoding — header/entry codecs, byte-exact vs hypercore@10 vectors. */
import { test } from 'node:test'
import c from 'compact-encoding'
import {
  decodeOplogEntry, decodeOplogHeader, encodeOplogEntry, encodeOplogHeader,
  type OplogEntry, type OplogHeader
} from '../../../src/core/format/oplog-encoding.js'
import { bytesEqual, deepEqual, equal, fromHex, ok, throwsWithCode } from '../../helpers/assert.js'
import { HypercoreError } from '../../../src/errors.js'
import { entryFromJson, headerFromJson, VECTORS as V } from './helpers.js'

const slots = V.compat.storage.oplog.headerSlots as Array<{ bodyHex: string, decoded: any }>
const frames = V.compat.storageBeforeFlush.oplogEntries as Array<{ bodyHex: string, decoded: any }>

test('oplog header: both vector slots encode byte-exactly and decode back', () => {
  equal(slots.length, 2)
  for (const [i, s] of slots.entries()) {
    const h = headerFromJson(s.decoded)
    bytesEqual(encodeOplogHeader(h), s.bodyHex, `slot ${i} encode`)
    deepEqual(decodeOplogHeader(fromHex(s.bodyHex)), h, `slot ${i} decode`)
  }
})

test('oplog entry: both vector entries encode byte-exactly and decode back', () => {
  for (const [i, f] of frames.entries()) {
    const e = entryFromJson(f.decoded)
    bytesEqual(encodeOplogEntry(e), f.bodyHex, `entry ${i} encode`)
    deepEqual(decodeOplogEntry(fromHex(f.bodyHex)), e, `entry ${i} decode`)
  }
})

test('oplog entry: every optional field combination round-trips, flags byte is exact', () => {
  const node = { index: 6, size: 70000, hash: new Uint8Array(32).fill(9) }
  for (let flags = 0; flags < 16; flags++) {
    const e: OplogEntry = {
      userData: (flags & 1) !== 0 ? { key: 'ké', value: flags & 2 ? new Uint8Array([1, 2]) : null } : null,
      treeNodes: (flags & 2) !== 0 ? [node, { ...node, index: 2 ** 40 }] : null,
      treeUpgrade: (flags & 4) !== 0 ? { fork: 3, ancestors: 1, length: 2 ** 33, signature: null } : null,
      bitfield: (flags & 8) !== 0 ? { drop: true, start: 65536, length: 7 } : null
    }
    const bytes = encodeOplogEntry(e)
    equal(bytes[0], flags, 'flags byte')
    deepEqual(decodeOplogEntry(bytes), e, `flags ${flags}`)
  }
})

test('oplog header: userData, reorg hints, no manifest/keyPair, null root', () => {
  const h: OplogHeader = {
    external: null,
    key: new Uint8Array(32).fill(7),
    manifest: null,
    keyPair: { publicKey: new Uint8Array(32).fill(7), secretKey: null },
    userData: [{ key: 'a', value: new Uint8Array([1]) }, { key: 'b', value: new Uint8Array(300).fill(2) }],
    tree: { fork: 2, length: 0, rootHash: null, signature: null },
    hints: { reorgs: [{ from: 0, to: 1, ancestors: 5 }, { from: 1, to: 2, ancestors: 0 }], contiguousLength: 0 }
  }
  const bytes = encodeOplogHeader(h)
  equal(bytes[1], 4, 'flags: keyPair only')
  deepEqual(decodeOplogHeader(bytes), h)
})

test('oplog header: external pointer encodes as version 1, flags 1, start, length', () => {
  const bytes = encodeOplogHeader({ external: { start: 8192, length: 5000 } })
  bytesEqual(bytes, '0101fd0020fd8813')
  deepEqual(decodeOplogHeader(bytes), { external: { start: 8192, length: 5000 } })
})

test('oplog header: contiguousLength is optional on decode (older v10 headers)', () => {
  const full = fromHex(slots[1]!.bodyHex)
  const cut = full.subarray(0, full.byteLength - 1) // drop the trailing contiguousLength varint
  const h = decodeOplogHeader(cut) as OplogHeader
  equal(h.hints.contiguousLength, 0)
  equal(h.tree.length, 1)
})

test('oplog header: version 0 is read, key = signer public key, compat manifest', () => {
  const pk = new Uint8Array(32).fill(0xaa)
  const sk = new Uint8Array(64).fill(0xbb)
  const s = c.state()
  const parts = (st: ReturnType<typeof c.state>): void => {
    c.uint.encode(st, 0)
    c.string.encode(st, 'blake2b'); c.string.encode(st, 'bitfield'); c.string.encode(st, 'ed25519')
    c.uint.encode(st, 1); c.string.encode(st, 'k'); c.buffer.encode(st, new Uint8Array([5])) // userData
    c.uint.encode(st, 1); c.uint.encode(st, 10); c.buffer.encode(st, new Uint8Array(32).fill(1)); c.buffer.encode(st, new Uint8Array(64).fill(2))
    c.buffer.encode(st, pk); c.buffer.encode(st, sk)
    c.uint.encode(st, 0) // reorgs
  }
  s.buffer = new Uint8Array(1024)
  parts(s)
  const h = decodeOplogHeader(s.buffer.subarray(0, s.start)) as OplogHeader
  bytesEqual(h.key, pk)
  bytesEqual(h.keyPair!.secretKey, sk)
  equal(h.tree.length, 10)
  equal(h.tree.fork, 1)
  equal(h.userData[0]!.key, 'k')
  equal(h.manifest!.signers.length, 1)
  bytesEqual(h.manifest!.signers[0]!.publicKey, pk)
  equal(h.hints.contiguousLength, 0)
})

test('oplog header: a future version throws INVALID_OPLOG_VERSION', () => {
  throwsWithCode(() => decodeOplogHeader(new Uint8Array([2, 0])), 'INVALID_OPLOG_VERSION')
})

test('oplog codecs: every truncation and every single-byte corruption throws only HypercoreErrors', () => {
  const bodies = [...slots.map(s => fromHex(s.bodyHex)), ...frames.map(f => fromHex(f.bodyHex))]
  let typed = 0
  let decoded = 0
  for (const [k, body] of bodies.entries()) {
    const isHeader = k < slots.length
    const dec = (b: Uint8Array): unknown => isHeader ? decodeOplogHeader(b) : decodeOplogEntry(b)
    for (let n = 0; n < body.byteLength; n++) {
      const cuts = [body.subarray(0, n)]
      const flipped = body.slice(); flipped[n] = flipped[n]! ^ 0xff
      cuts.push(flipped)
      for (const b of cuts) {
        try {
          dec(b)
          decoded++
        } catch (err) {
          ok(HypercoreError.is(err), `body ${k} byte ${n}: non-typed error ${String(err)}`)
          ok(err.code === 'DECODING_ERROR' || err.code === 'INVALID_OPLOG_VERSION', `code ${err.code}`)
          typed++
        }
      }
    }
  }
  ok(typed > 500, `most mutations fail to decode (typed errors: ${typed}, decoded: ${decoded})`)
})

test('oplog codecs: bad values on encode are BAD_ARGUMENT', () => {
  const h = headerFromJson(slots[0]!.decoded)
  throwsWithCode(() => encodeOplogHeader({ ...h, key: new Uint8Array(5) }), 'BAD_ARGUMENT')
})
