/**
 * @module test/crypto/reference
 * The reference implementation, hypercore-crypto 3.7 (native sodium, as installed under
 * hypercore@10), loaded as a black box for differential tests and benchmarks. Node only.
 */
import { createRequire } from 'node:module'

type Node = { index: number, size: number, hash: Uint8Array }
export interface HypercoreCrypto {
  keyPair (seed?: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array }
  validateKeyPair (kp: { publicKey: Uint8Array, secretKey: Uint8Array }): boolean
  sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
  data (data: Uint8Array): Uint8Array
  parent (a: Node, b: Node): Uint8Array
  tree (roots: Node[]): Uint8Array
  hash (data: Uint8Array): Uint8Array
  discoveryKey (key: Uint8Array): Uint8Array
  namespace (name: string, count: number): Uint8Array[]
}

export const reference = createRequire(import.meta.url)('hypercore-crypto') as HypercoreCrypto
