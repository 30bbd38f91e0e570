/**
 * @module dht/constants
 * The domain-separation constants of a page on the HyperDHT, as bytes. Like signaling's (in
 * signaling/auth.ts) they live beside their only users rather than in crypto/caps.ts, whose
 * constants every bundle carries: these are loaded with the DHT relay client, on demand.
 *
 * Each is `namespace(name, count)[i]` (crypto/hash.ts): `ns = BLAKE2b-256(utf8(name))`,
 * `NS[i] = BLAKE2b-256(ns ‖ byte(i))`, hardcoded so that importing them needs no sodium;
 * test/replication/noise-ik.test.ts and test/dht/protocol.test.ts re-derive every one and check
 * HyperDHT's against hyperdht's own.
 */

function fromHex (s: string): Uint8Array {
  const out = new Uint8Array(s.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

// namespace('hyperswarm/dht', 11): HyperDHT's, indexed by its command numbers.
/** [0] Prologue of the Noise IK peer handshake. */
export const DHT_PEER_HANDSHAKE = fromHex('14d6d4b49214ab1033ed204976caa258bae9e1e8543b9ad1fd996a910b0c4e3a')
/** [1] Holepunch payload key: BLAKE2b-256 of this, keyed with the peer handshake's hash. */
export const DHT_PEER_HOLEPUNCH = fromHex('f1191cd5e67b10b54a507033280ed1ff0e12278268d5679c8f93d417210d168b')
/** [4] Prefix of a signed announce record. */
export const DHT_ANNOUNCE = fromHex('36386adddf9f6fd60db83a6f42fc159d1146aa8644037664230aaa1f0179d497')
/** [5] Prefix of a signed unannounce. */
export const DHT_UNANNOUNCE = fromHex('ded293cd93fb395e756ecf5fff426529e72c36eacc22e5ed944d9099a2561e32')

// namespace('hypercore-web/dht-relay', 1): ours.
/** [0] Prefix of a page's answer to a DHT relay's challenge (./PROTOCOL.md). */
export const DHT_RELAY_HELLO = fromHex('233306fefc0ac6945be5028524887331afe2734aaaa446892601ca790186abe6')

/** The namespace names and counts the constants above come from (used by the tests). */
export const NAMESPACES = {
  hyperdht: { name: 'hyperswarm/dht', count: 11 },
  dhtRelay: { name: 'hypercore-web/dht-relay', count: 1 }
} as const
