/**
 * @module store/keys
 * corestore@6's key derivation, so one primary key gives the same cores in both: a named
 * core's key pair is the Ed25519 key pair of the seed
 *
 *   seed = BLAKE2b-256 keyed with primaryKey ( CORESTORE ‖ namespace ‖ utf8(name) )
 *
 * and a namespace is `BLAKE2b-256(parent ‖ utf8(name))`, starting from 32 zero bytes.
 * CORESTORE is `namespace('corestore', 1)[0]` (crypto/caps.ts). Needs sodium loaded.
 */
import b4a from 'b4a'
import { HypercoreError } from '../errors.js'
import { CORESTORE } from '../crypto/caps.js'
import { blake2bParts } from '../crypto/hash.js'
import { keyPair } from '../crypto/sign.js'
import type { KeyPair } from '../crypto/types.js'

/** The root namespace: 32 zero bytes. */
export const DEFAULT_NAMESPACE: Uint8Array = new Uint8Array(32)

function nameBytes (name: string | Uint8Array): Uint8Array {
  if (typeof name === 'string') return b4a.from(name, 'utf-8')
  if (name instanceof Uint8Array) return name
  throw HypercoreError.BAD_ARGUMENT('a name must be a string or a Uint8Array')
}

export function checkNamespace (ns: unknown): asserts ns is Uint8Array {
  if (!(ns instanceof Uint8Array) || ns.byteLength !== 32) throw HypercoreError.BAD_ARGUMENT('a namespace must be a 32-byte Uint8Array')
}

export function checkPrimaryKey (key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) throw HypercoreError.BAD_ARGUMENT('primaryKey must be a 32-byte Uint8Array')
}

/** The namespace `name` makes inside `parent` (`store.namespace(name)`). */
export function childNamespace (parent: Uint8Array, name: string | Uint8Array): Uint8Array {
  return b4a.from(blake2bParts([parent, nameBytes(name)]))
}

/** The 32-byte seed of the key pair named `name` in `namespace`. */
export function deriveSeed (primaryKey: Uint8Array, namespace: Uint8Array, name: string | Uint8Array): Uint8Array {
  return blake2bParts([CORESTORE, namespace, nameBytes(name)], 32, primaryKey)
}

/** The key pair named `name` in `namespace` (Buffers in Node, as corestore@6's). */
export function deriveKeyPair (primaryKey: Uint8Array, namespace: Uint8Array, name: string | Uint8Array): KeyPair {
  const seed = deriveSeed(primaryKey, namespace, name)
  const kp = keyPair(seed)
  seed.fill(0)
  return { publicKey: b4a.from(kp.publicKey), secretKey: b4a.from(kp.secretKey) }
}
