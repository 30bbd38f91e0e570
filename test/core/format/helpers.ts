/**
 * @module test/core/format/helpers
 * Test helpers for the on-disk format layer: npm's random-access-memory / random-access-file
 * loaded as black boxes (untyped CommonJS, so through createRequire), byte snapshots, and a
 * storage wrapper that can tear writes to simulate crashes.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { RandomAccessStorage } from '../../../src/storage/types.js'
import { promisify } from '../../../src/storage/promises.js'
import { fromHex } from '../../helpers/assert.js'
import type { OplogEntry, OplogHeader } from '../../../src/core/format/oplog-encoding.js'

const require = createRequire(import.meta.url)

export const RAM = require('random-access-memory') as new (buf?: Uint8Array) => RandomAccessStorage
export const RAF = require('random-access-file') as new (path: string, opts?: Record<string, unknown>) => RandomAccessStorage

export const VECTORS = JSON.parse(readFileSync(new URL('../../fixtures/vectors.json', import.meta.url), 'utf8'))

/** A fresh in-memory file, optionally holding `bytes`. */
export function ram (bytes?: Uint8Array): RandomAccessStorage {
  return bytes === undefined || bytes.byteLength === 0 ? new RAM() : new RAM(Uint8Array.from(bytes))
}

/** All bytes of a file (empty if it has none). */
export async function readAll (s: RandomAccessStorage): Promise<Uint8Array> {
  const io = promisify(s)
  const { size } = await io.stat()
  // a plain copy: RAM hands out Buffers, whose slice() is a view, not a copy
  return size === 0 ? new Uint8Array(0) : new Uint8Array(await io.read(0, size))
}

/** The vectors' JSON (hex strings) → our header record. */
export function headerFromJson (d: any): OplogHeader {
  const b = (x: string | null): Uint8Array | null => x === null ? null : fromHex(x)
  return {
    external: null,
    key: fromHex(d.key),
    manifest: d.manifest === null
      ? null
      : { ...d.manifest, signers: d.manifest.signers.map((s: any) => ({ signature: s.signature, namespace: fromHex(s.namespace), publicKey: fromHex(s.publicKey) })) },
    keyPair: d.keyPair === null ? null : { publicKey: fromHex(d.keyPair.publicKey), secretKey: b(d.keyPair.secretKey) },
    userData: d.userData.map((u: any) => ({ key: u.key, value: b(u.value) })),
    tree: { fork: d.tree.fork, length: d.tree.length, rootHash: b(d.tree.rootHash), signature: b(d.tree.signature) },
    hints: { reorgs: d.hints.reorgs, contiguousLength: d.hints.contiguousLength }
  }
}

/** The vectors' JSON → our entry record. */
export function entryFromJson (d: any): OplogEntry {
  return {
    userData: d.userData,
    treeNodes: d.treeNodes.map((n: any) => ({ index: n.index, size: n.size, hash: fromHex(n.hash) })),
    treeUpgrade: { ...d.treeUpgrade, signature: fromHex(d.treeUpgrade.signature) },
    bitfield: d.bitfield
  }
}

/** A small synthetic header: distinct per `length`. */
export function header (length: number, extra: Partial<OplogHeader> = {}): OplogHeader {
  return {
    external: null,
    key: new Uint8Array(32).fill(0x11),
    manifest: null,
    keyPair: null,
    userData: [],
    tree: { fork: 0, length, rootHash: length === 0 ? null : new Uint8Array(32).fill(length & 0xff), signature: length === 0 ? null : new Uint8Array(64).fill(0x5a) },
    hints: { reorgs: [], contiguousLength: length },
    ...extra
  }
}

/** A synthetic append entry for block `i`. */
export function entry (i: number): OplogEntry {
  return {
    userData: null,
    treeNodes: [{ index: 2 * i, size: i + 1, hash: new Uint8Array(32).fill(i & 0xff) }],
    treeUpgrade: { fork: 0, ancestors: i, length: i + 1, signature: new Uint8Array(64).fill((i * 7) & 0xff) },
    bitfield: { drop: false, start: i, length: 1 }
  }
}
