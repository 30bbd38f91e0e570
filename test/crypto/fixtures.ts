/**
 * @module test/crypto/fixtures
 * Loads the spec vectors (made by hypercore@10.38.2) for the Node crypto tests.
 */
import { readFileSync } from 'node:fs'
import { fromHex } from '../helpers/assert.js'

// The JSON is large and loosely typed; tests index into it by the names in the spec (§7).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const vectors: any = JSON.parse(readFileSync(new URL('../fixtures/vectors.json', import.meta.url), 'utf8'))
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const transcript: any = JSON.parse(readFileSync(new URL('../fixtures/wire-transcript.json', import.meta.url), 'utf8'))

export const seed = fromHex(vectors.keyPair.seed)
export const publicKey = fromHex(vectors.keyPair.publicKey)
export const secretKey = fromHex(vectors.keyPair.secretKey)

/** `{index,size,hash:hex}` → TreeNode. */
export function node (n: { index: number, size: number, hash: string }): { index: number, size: number, hash: Uint8Array } {
  return { index: n.index, size: n.size, hash: fromHex(n.hash) }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
