/**
 * @module crypto/caps
 * Every domain-separation constant in one place (spec §1.2), as bytes.
 *
 * Each is `namespace(name, count)[i]`: `ns = BLAKE2b-256(utf8(name))`, then
 * `NS[i] = BLAKE2b-256(ns ‖ byte(i))`. They are hardcoded so that importing them needs no
 * sodium; test/crypto/caps.test.ts re-derives every one with `namespace()` and checks it
 * against the vectors made by hypercore-crypto.
 */

function fromHex (s: string): Uint8Array {
  const out = new Uint8Array(s.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

// namespace('hypercore', 6)
/** [0] Prefix of every signable (§2.2). */
export const TREE = fromHex('9fac70b50ca14efc4e91c833b204e75b8b5aad8b5881bfc0adb5ef38a3275b9c')
/** [1] Capability namespace of the connection initiator (§5.6). */
export const REPLICATE_INITIATOR = fromHex('51812a2a359b50369536775df89e18e47740f3db72ac0ae70b29594c194dc316')
/** [2] Capability namespace of the connection responder (§5.6). */
export const REPLICATE_RESPONDER = fromHex('0438492d02970cc13528ac0262bca0074e0926260256865accc0bf15bd79127d')
/** [3] Prefix of the manifest hash, which is the key of a non-compat core (§2.3). */
export const MANIFEST = fromHex('e64b7108eacce47cfc61ac850568f55f8b15b82ec5ed78c4ec597b036e2a1498')
/** [4] The signer namespace inside default manifests (§2.3); also the v0 signable's middle field (§2.2). */
export const DEFAULT_NAMESPACE = fromHex('4144eea531e483d54e0c14f4ca68e0644f355343ff6fcb0f005200e12cd747cb')
/** [5] Block-key derivation prefix for non-compat encrypted cores (§4); v11 calls it DEFAULT_ENCRYPTION. */
export const BLOCK_ENCRYPTION = fromHex('9aedb6f1dea8487cc1e1698f97eb2f063f6db4c649695622e7b675e2ceafa6e9')

// namespace('hyperswarm/secret-stream', 3)
/** [0] Stream id of the initiator: BLAKE2b-256 keyed with the handshake hash (§5.4). */
export const NS_INITIATOR = fromHex('a931a0155b5c09e6d28628236af83c4b8a6af9af60986edeede9dc5d63192bf7')
/** [1] Stream id of the responder (§5.4). */
export const NS_RESPONDER = fromHex('742c9d833d430af4c48a8705e91631eecf295442bbca18996e597097723b1061')
/** [2] Keys of the unordered UDP send path (§5.4); hypercore never uses it, kept for completeness. */
export const NS_SEND = fromHex('aab97d097471f56651b0460ffc8aaa7d3342f7377597d60b925a1dac689adcbf')

// namespace('corestore', 1)
/** [0] Prefix of corestore@6's key derivation: seed = BLAKE2b-256_primaryKey(CORESTORE ‖ namespace ‖ name). */
export const CORESTORE = fromHex('ac5c4cbfb1064776404637a280c71fac823281d351ebeced03151743270def29')

/** The namespace names and counts the constants above come from (used by the tests). */
export const NAMESPACES = {
  hypercore: { name: 'hypercore', count: 6 },
  secretStream: { name: 'hyperswarm/secret-stream', count: 3 },
  corestore: { name: 'corestore', count: 1 }
} as const
