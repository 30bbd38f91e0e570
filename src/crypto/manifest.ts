/**
 * @module crypto/manifest
 * Manifests (spec §2.3): the record that says who may sign a core, its compact encoding in
 * versions 0 and 1, the manifest hash (= the key of a non-compat core), the default
 * single-signer manifest, and the compat test.
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import { _assertBytes, _assertUint, equalBytes } from './bytes.js'
import { DEFAULT_NAMESPACE, MANIFEST } from './caps.js'
import { blake2bParts } from './hash.js'

export interface ManifestSigner {
  signature: 'ed25519'
  namespace: Uint8Array
  publicKey: Uint8Array
}

export interface ManifestPrologue {
  hash: Uint8Array
  length: number
}

export interface Manifest {
  version: 0 | 1
  hash: 'blake2b'
  allowPatch: boolean
  quorum: number
  signers: ManifestSigner[]
  prologue: ManifestPrologue | null
}

/** What callers may pass: everything but the signers' public keys has a default. */
export interface ManifestInput {
  version?: number
  hash?: string
  allowPatch?: boolean
  quorum?: number
  signers?: Array<{ signature?: string, namespace?: Uint8Array, publicKey: Uint8Array }>
  prologue?: ManifestPrologue | null
}

type State = ReturnType<typeof c.state>

/**
 * Fills defaults and validates: version 1, blake2b, no patch, quorum ⌊signers/2⌋ + 1 (capped at
 * the number of signers), namespace DEFAULT_NAMESPACE, no prologue.
 */
export function createManifest (input: ManifestInput): Manifest {
  if (input === null || typeof input !== 'object') throw HypercoreError.BAD_ARGUMENT('manifest must be an object')
  const version = input.version ?? 1
  if (version !== 0 && version !== 1) throw HypercoreError.BAD_ARGUMENT(`unsupported manifest version ${String(version)}`)
  if ((input.hash ?? 'blake2b') !== 'blake2b') throw HypercoreError.BAD_ARGUMENT('manifest hash must be blake2b')
  const signers = (input.signers ?? []).map((s, i): ManifestSigner => {
    if ((s.signature ?? 'ed25519') !== 'ed25519') throw HypercoreError.BAD_ARGUMENT(`signers[${i}]: only ed25519 is supported`)
    const namespace = s.namespace ?? DEFAULT_NAMESPACE
    _assertBytes(namespace, `signers[${i}].namespace`, 32)
    _assertBytes(s.publicKey, `signers[${i}].publicKey`, 32)
    return { signature: 'ed25519', namespace, publicKey: s.publicKey }
  })
  const quorum = Math.min(input.quorum ?? (signers.length >> 1) + 1, signers.length)
  _assertUint(quorum, 'quorum')
  let prologue: ManifestPrologue | null = null
  if (input.prologue != null) {
    _assertBytes(input.prologue.hash, 'prologue.hash', 32)
    _assertUint(input.prologue.length, 'prologue.length')
    prologue = { hash: input.prologue.hash, length: input.prologue.length }
  }
  if (signers.length === 0 && prologue === null) throw HypercoreError.BAD_ARGUMENT('manifest needs signers or a prologue')
  return { version, hash: 'blake2b', allowPatch: input.allowPatch === true, quorum, signers, prologue }
}

/** The default single-signer v1 manifest of a public key (what compat cores imply, §2.3). */
export function defaultManifest (publicKey: Uint8Array): Manifest {
  _assertBytes(publicKey, 'publicKey', 32)
  return {
    version: 1,
    hash: 'blake2b',
    allowPatch: false,
    quorum: 1,
    signers: [{ signature: 'ed25519', namespace: DEFAULT_NAMESPACE, publicKey }],
    prologue: null
  }
}

/** A manifest is compat iff it has exactly one signer and the key is that signer's public key (§2.3). */
export function isCompat (key: Uint8Array, manifest: Manifest | null | undefined): boolean {
  _assertBytes(key, 'key')
  return manifest != null && manifest.signers.length === 1 && equalBytes(key, manifest.signers[0]!.publicKey)
}

// --- encoding -------------------------------------------------------------------------

const signerEnc = {
  preencode (state: State, s: ManifestSigner): void {
    c.uint.preencode(state, 0)
    c.fixed32.preencode(state, s.namespace)
    c.fixed32.preencode(state, s.publicKey)
  },
  encode (state: State, s: ManifestSigner): void {
    c.uint.encode(state, 0) // 0 = ed25519, the only signature type
    c.fixed32.encode(state, s.namespace)
    c.fixed32.encode(state, s.publicKey)
  },
  decode (state: State): ManifestSigner {
    const type = c.uint.decode(state)
    if (type !== 0) throw HypercoreError.DECODING_ERROR(`unknown signer signature type ${type}`)
    return { signature: 'ed25519', namespace: c.fixed32.decode(state).slice(), publicKey: c.fixed32.decode(state).slice() }
  }
}
const signerArray = c.array(signerEnc)

/** The v0 layout type (§2.3): 0 prologue only, 1 one plain signer, 2 general. */
function _v0Type (m: Manifest): 0 | 1 | 2 {
  if (m.signers.length === 0) {
    if (m.prologue === null || m.prologue.length !== 0) throw HypercoreError.BAD_ARGUMENT('v0 manifests only encode a prologue of length 0')
    return 0
  }
  if (m.prologue !== null) throw HypercoreError.BAD_ARGUMENT('v0 manifests cannot have both signers and a prologue')
  return m.signers.length === 1 && m.quorum === 1 && !m.allowPatch ? 1 : 2
}

/** compact-encoding codec for manifests, so wire messages can embed it (§5.6 data.manifest). */
export const manifestEncoding = {
  preencode (state: State, m: Manifest): void {
    if (m.version === 0) {
      const type = _v0Type(m)
      state.end += 3
      if (type === 0) state.end += 32
      else if (type === 1) signerEnc.preencode(state, m.signers[0]!)
      else {
        c.uint.preencode(state, m.allowPatch ? 1 : 0)
        c.uint.preencode(state, m.quorum)
        signerArray.preencode(state, m.signers)
      }
      return
    }
    state.end += 2 // version, flags (both < 0xfd)
    c.uint.preencode(state, 0)
    c.uint.preencode(state, m.quorum)
    signerArray.preencode(state, m.signers)
    if (m.prologue !== null) {
      c.fixed32.preencode(state, m.prologue.hash)
      c.uint.preencode(state, m.prologue.length)
    }
  },
  encode (state: State, m: Manifest): void {
    if (m.version === 0) {
      const type = _v0Type(m)
      c.uint.encode(state, 0)
      c.uint.encode(state, 0) // hash: blake2b
      c.uint.encode(state, type)
      if (type === 0) c.fixed32.encode(state, m.prologue!.hash)
      else if (type === 1) signerEnc.encode(state, m.signers[0]!)
      else {
        c.uint.encode(state, m.allowPatch ? 1 : 0)
        c.uint.encode(state, m.quorum)
        signerArray.encode(state, m.signers)
      }
      return
    }
    c.uint.encode(state, 1)
    c.uint.encode(state, (m.allowPatch ? 1 : 0) | (m.prologue !== null ? 2 : 0))
    c.uint.encode(state, 0) // hash: blake2b
    c.uint.encode(state, m.quorum)
    signerArray.encode(state, m.signers)
    if (m.prologue !== null) {
      c.fixed32.encode(state, m.prologue.hash)
      c.uint.encode(state, m.prologue.length)
    }
  },
  decode (state: State): Manifest {
    const version = c.uint.decode(state)
    if (version > 1) throw HypercoreError.DECODING_ERROR(`unknown manifest version ${version}`)
    if (version === 0) {
      if (c.uint.decode(state) !== 0) throw HypercoreError.DECODING_ERROR('unknown manifest hash type')
      const type = c.uint.decode(state)
      const base = { version: 0 as const, hash: 'blake2b' as const }
      if (type === 0) {
        return { ...base, allowPatch: false, quorum: 0, signers: [], prologue: { hash: c.fixed32.decode(state).slice(), length: 0 } }
      }
      if (type === 1) return { ...base, allowPatch: false, quorum: 1, signers: [signerEnc.decode(state)], prologue: null }
      if (type === 2) {
        const flags = c.uint.decode(state)
        const quorum = c.uint.decode(state)
        return { ...base, allowPatch: (flags & 1) !== 0, quorum, signers: signerArray.decode(state), prologue: null }
      }
      throw HypercoreError.DECODING_ERROR(`unknown v0 manifest type ${type}`)
    }
    const flags = c.uint.decode(state)
    if (c.uint.decode(state) !== 0) throw HypercoreError.DECODING_ERROR('unknown manifest hash type')
    const quorum = c.uint.decode(state)
    const signers = signerArray.decode(state)
    const prologue = (flags & 2) !== 0 ? { hash: c.fixed32.decode(state).slice(), length: c.uint.decode(state) } : null
    return { version: 1, hash: 'blake2b', allowPatch: (flags & 1) !== 0, quorum, signers, prologue }
  }
}

/** The manifest's bytes (§2.3). */
export function encodeManifest (manifest: Manifest): Uint8Array {
  const state = c.state()
  manifestEncoding.preencode(state, manifest)
  state.buffer = new Uint8Array(state.end)
  manifestEncoding.encode(state, manifest)
  return state.buffer
}

/** Decodes a whole buffer as one manifest; trailing bytes or truncation throw DECODING_ERROR. */
export function decodeManifest (bytes: Uint8Array): Manifest {
  _assertBytes(bytes, 'bytes')
  const state = c.state(0, bytes.byteLength, bytes)
  let m: Manifest
  try {
    m = manifestEncoding.decode(state)
  } catch (err) {
    if (HypercoreError.is(err)) throw err
    throw HypercoreError.DECODING_ERROR('Could not decode manifest', err)
  }
  if (state.start !== state.end) throw HypercoreError.DECODING_ERROR('trailing bytes after manifest')
  return m
}

/** Manifest hash (§2.3): `H(MANIFEST ‖ encode(manifest))`, the key of a non-compat core. */
export function manifestHash (manifest: Manifest): Uint8Array {
  return blake2bParts([MANIFEST, encodeManifest(manifest)])
}
