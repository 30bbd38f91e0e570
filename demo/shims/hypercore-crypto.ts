/**
 * @module demo/shims/hypercore-crypto
 * What `require('hypercore-crypto')` gives the demo's browser bundle: the two functions
 * hyperdrive@11 and hyperblobs call (`namespace`, for the blobs manifest's namespace, and
 * `hash`, for hyperblobs' block maps), on hypercore-web's libsodium. Everything else of
 * hypercore-crypto is left out; without this map the bundle would carry a second libsodium
 * (sodium-universal → sodium-javascript).
 *
 * hyperdrive calls `namespace()` while its module loads, and hypercore-web's crypto is ready
 * only after `await cryptoReady()`: the page imports hyperdrive after that (demo/src/drive.ts,
 * `loadHyperdrive`).
 */
import { blake2bParts, namespace as ns } from '../../src/crypto/hash.js'

/** hypercore-crypto's `namespace(name, count | ids)`: `H(name)`, then `H(ns ‖ byte(i))` for each id. */
export function namespace (name: string, count: number | number[]): Uint8Array[] {
  const ids = typeof count === 'number' ? Array.from({ length: count }, (_, i) => i) : count
  const all = ns(name, Math.max(0, ...ids) + 1)
  return ids.map(i => all[i]!)
}

/** hypercore-crypto's `hash(data | data[])`: BLAKE2b-256. */
export function hash (data: Uint8Array | Uint8Array[]): Uint8Array {
  return blake2bParts(Array.isArray(data) ? data : [data])
}
