/**
 * @module crypto/signable
 * The exact bytes a writer signs (spec §2.2). Three layouts matter:
 *   compat:      TREE ‖ treeHash ‖ u64le(length) ‖ u64le(fork)                     (80)
 *   manifest v1: TREE ‖ manifestHash ‖ treeHash ‖ u64le(length) ‖ u64le(fork)      (112)
 *   manifest v0: TREE ‖ signer.namespace ‖ treeHash ‖ u64le(length) ‖ u64le(fork)  (112)
 * (The 48-byte "legacy" layout of the hidden `legacy: true` option is not supported.)
 */
import { _assertBytes, _assertUint, _writeU64LE } from './bytes.js'
import { TREE } from './caps.js'

function _signable (middle: Uint8Array | null, treeHash: Uint8Array, length: number, fork: number): Uint8Array {
  _assertBytes(treeHash, 'treeHash', 32)
  _assertUint(length, 'length')
  _assertUint(fork, 'fork')
  const out = new Uint8Array(middle === null ? 80 : 112)
  out.set(TREE, 0)
  let off = 32
  if (middle !== null) { out.set(middle, off); off += 32 }
  out.set(treeHash, off)
  _writeU64LE(out, off + 32, length)
  _writeU64LE(out, off + 40, fork)
  return out
}

/** The 80-byte compat signable (the default hypercore@10 writer). */
export function compatSignable (treeHash: Uint8Array, length: number, fork: number): Uint8Array {
  return _signable(null, treeHash, length, fork)
}

/** The 112-byte manifest-v1 signable; `manifestHash` is the core key. */
export function manifestV1Signable (manifestHash: Uint8Array, treeHash: Uint8Array, length: number, fork: number): Uint8Array {
  _assertBytes(manifestHash, 'manifestHash', 32)
  return _signable(manifestHash, treeHash, length, fork)
}

/** The 112-byte manifest-v0 signable: the signer's namespace stands where v1 puts the manifest hash. */
export function manifestV0Signable (namespace: Uint8Array, treeHash: Uint8Array, length: number, fork: number): Uint8Array {
  _assertBytes(namespace, 'namespace', 32)
  return _signable(namespace, treeHash, length, fork)
}
