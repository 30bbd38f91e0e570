/**
 * @module test/vectors/fixtures
 * The spec vectors (made by hypercore@10.38.2) and the recorded wire transcript, loaded in a
 * way that works in Node (tsx, Node 20 needs the `type: 'json'` attribute) and in a browser
 * page (esbuild inlines the JSON), so the shared vector suites run unchanged in both.
 */
import { fromHex } from '../helpers/assert.js'
import vectorsJson from '../fixtures/vectors.json' with { type: 'json' }
import transcriptJson from '../fixtures/wire-transcript.json' with { type: 'json' }

// The JSON is large and loosely typed; suites index into it by the names in the spec (§7).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const vectors: any = vectorsJson
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const transcript: any = transcriptJson

export const seed = fromHex(vectors.keyPair.seed)
export const publicKey = fromHex(vectors.keyPair.publicKey)
export const secretKey = fromHex(vectors.keyPair.secretKey)

/** `{index,size,hash:hex}` → TreeNode. */
export function node (n: { index: number, size: number, hash: string }): { index: number, size: number, hash: Uint8Array } {
  return { index: n.index, size: n.size, hash: fromHex(n.hash) }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
