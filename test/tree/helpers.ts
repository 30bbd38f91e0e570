/**
 * @module test/tree/helpers
 * Test helpers for the tree layer: a writer tree over a MemoryNodeStore that signs with the
 * 80-byte compat signable (§2.2), and the matching signature check.
 */
import { keyPair, sign, verify } from '../../src/crypto/sign.js'
import { MemoryNodeStore } from '../../src/tree/memory-node-store.js'
import { MerkleTree } from '../../src/tree/merkle-tree.js'
import type { TreeNode } from '../../src/tree/types.js'
import { fromHex } from '../helpers/assert.js'
import vectors from '../fixtures/vectors.json' with { type: 'json' }

export { vectors }

const TREE = fromHex('9fac70b50ca14efc4e91c833b204e75b8b5aad8b5881bfc0adb5ef38a3275b9c')

export function u64le (n: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true)
  return out
}

/** §2.2 compat signable: TREE ‖ treeHash ‖ u64le(length) ‖ u64le(fork). */
export function compatSignable (treeHash: Uint8Array, length: number, fork: number): Uint8Array {
  const out = new Uint8Array(80)
  out.set(TREE, 0)
  out.set(treeHash, 32)
  out.set(u64le(length), 64)
  out.set(u64le(fork), 72)
  return out
}

export interface KeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

export function keyPairFromSeed (seed: Uint8Array): KeyPair {
  return keyPair(seed)
}

export const vectorKeyPair = (): KeyPair => ({
  publicKey: fromHex(vectors.keyPair.publicKey),
  secretKey: fromHex(vectors.keyPair.secretKey)
})

export function signTree (treeHash: Uint8Array, length: number, fork: number, secretKey: Uint8Array): Uint8Array {
  return sign(compatSignable(treeHash, length, fork), secretKey)
}

export function verifierFor (publicKey: Uint8Array) {
  return (treeHash: Uint8Array, length: number, fork: number, signature: Uint8Array): boolean => {
    if (signature.byteLength !== 64) return false
    return verify(compatSignable(treeHash, length, fork), signature, publicKey)
  }
}

/** A writer: tree + store, appending and signing like a compat hypercore-10 writer. */
export class Writer {
  readonly store = new MemoryNodeStore()
  readonly tree = new MerkleTree(this.store)
  readonly blocks: Uint8Array[] = []
  constructor (readonly keyPair: KeyPair) {}

  append (...blocks: Uint8Array[]): void {
    const b = this.tree.batch()
    for (const block of blocks) b.append(block)
    b.signature = signTree(b.hash(), b.length, b.fork, this.keyPair.secretKey)
    this.store.put(b.nodes)
    b.commit()
    this.blocks.push(...blocks)
  }

  async readBlock (index: number): Promise<Uint8Array | null> {
    return this.blocks[index] ?? null
  }

  /** A snapshot of the writer at an earlier length, signed at that length (as a real writer would have been). */
  async snapshot (length: number): Promise<MerkleTree> {
    const t = await MerkleTree.open(this.store, { length, fork: this.tree.fork })
    t.signature = signTree(t.hash(), length, t.fork, this.keyPair.secretKey)
    return t
  }
}

export function nodeJson (n: TreeNode): { index: number, size: number, hash: string } {
  let hash = ''
  for (const b of n.hash) hash += b.toString(16).padStart(2, '0')
  return { index: n.index, size: n.size, hash }
}

export function textBlocks (...s: string[]): Uint8Array[] {
  return s.map((x) => new TextEncoder().encode(x))
}
