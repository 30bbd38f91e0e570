/**
 * @module crypto/verifier
 * Signs and verifies a core's (treeHash, length, fork) under its key and manifest (spec §2.2,
 * §2.3 "Verification rules"). Modes:
 *   - compat (key = the single signer's public key): raw 64-byte signature, 80-byte signable.
 *   - manifest v0, one signer, no patch: raw 64-byte signature, v0 112-byte signable.
 *   - manifest v1: the multisig envelope (multisig.ts), v1 112-byte signable, a quorum of
 *     distinct signers, and the prologue rule.
 * Not supported, each failing with INVALID_OPERATION instead of a silent wrong answer:
 *   - patches (a v1 proof with `patch > 0` under an `allowPatch` manifest: verifying one needs
 *     the tree, and no JS writer we interoperate with produces them by default);
 *   - v0 manifests with several signers or `allowPatch` (their different envelope, §2.2).
 */
import { HypercoreError } from '../errors.js'
import { _assertBytes, _assertUint, equalBytes } from './bytes.js'
import { type Manifest, defaultManifest, isCompat, manifestHash } from './manifest.js'
import { decodeMultisig, encodeMultisig, type Multisig, type MultisigProof } from './multisig.js'
import { compatSignable, manifestV0Signable, manifestV1Signable } from './signable.js'
import { sign, verify } from './sign.js'
import type { KeyPair } from './types.js'

export interface VerifierOptions {
  /** The core key (compat: the public key; otherwise the manifest hash). */
  key: Uint8Array
  /** The manifest; defaults to the default manifest of `key` (compat cores). */
  manifest?: Manifest | null
  /** Force compat (true) or manifest (false) rules; inferred from key and manifest when omitted. */
  compat?: boolean
}

export class Verifier {
  readonly key: Uint8Array
  readonly manifest: Manifest
  readonly compat: boolean

  constructor (opts: VerifierOptions) {
    if (opts === null || typeof opts !== 'object') throw HypercoreError.BAD_ARGUMENT('Verifier options must be an object')
    _assertBytes(opts.key, 'key', 32)
    this.key = opts.key
    if (opts.manifest == null) {
      // §2.6.3: given only a key, assume compat (the default manifest with P = key).
      if (opts.compat === false) throw HypercoreError.BAD_ARGUMENT('a non-compat core needs its manifest')
      this.manifest = defaultManifest(opts.key)
      this.compat = true
      return
    }
    this.manifest = opts.manifest
    const compatible = isCompat(opts.key, opts.manifest)
    if (opts.compat === true && !compatible) throw HypercoreError.BAD_ARGUMENT('compat requires a single-signer manifest whose public key is the core key')
    if (opts.compat === true || (opts.compat === undefined && compatible)) {
      this.compat = true
      return
    }
    if (!equalBytes(manifestHash(opts.manifest), opts.key)) throw HypercoreError.BAD_ARGUMENT('manifest does not hash to the core key')
    this.compat = false
  }

  /** True when signatures are one raw Ed25519 signature rather than an envelope. */
  get rawSignature (): boolean {
    return this.compat || this.manifest.version === 0
  }

  /** The bytes signer `signerIndex` signs for this batch. */
  signable (treeHash: Uint8Array, length: number, fork: number, signerIndex = 0): Uint8Array {
    if (this.compat) return compatSignable(treeHash, length, fork)
    if (this.manifest.version === 1) return manifestV1Signable(this.key, treeHash, length, fork)
    const signer = this.manifest.signers[signerIndex]
    if (signer === undefined) throw HypercoreError.BAD_ARGUMENT(`no signer ${signerIndex}`)
    return manifestV0Signable(signer.namespace, treeHash, length, fork)
  }

  /**
   * Signs with `keyPair`, which must be one of the manifest's signers. Returns what is stored
   * and sent: raw 64 bytes (compat, v0) or a one-proof v1 envelope. For a v1 quorum above 1,
   * collect each signer's `signProof` and combine them with `Verifier.assemble`.
   */
  sign (treeHash: Uint8Array, length: number, fork: number, keyPair: KeyPair): Uint8Array {
    const proof = this.signProof(treeHash, length, fork, keyPair)
    if (this.rawSignature) return proof.signature
    return Verifier.assemble([proof])
  }

  /** One signer's proof (its index and raw signature) for a v1 envelope. */
  signProof (treeHash: Uint8Array, length: number, fork: number, keyPair: KeyPair): MultisigProof {
    if (keyPair === null || typeof keyPair !== 'object') throw HypercoreError.BAD_ARGUMENT('keyPair must be an object')
    _assertBytes(keyPair.publicKey, 'keyPair.publicKey', 32)
    this._assertSupportedV0()
    const signer = this.manifest.signers.findIndex(s => equalBytes(s.publicKey, keyPair.publicKey))
    if (signer === -1) throw HypercoreError.BAD_ARGUMENT('key pair is not a signer of this core')
    return { signer, signature: sign(this.signable(treeHash, length, fork, signer), keyPair.secretKey), patch: 0 }
  }

  /** Builds a v1 envelope from individual proofs (sorted by signer index). */
  static assemble (proofs: MultisigProof[]): Uint8Array {
    return encodeMultisig({ proofs: [...proofs].sort((a, b) => a.signer - b.signer), patch: [] })
  }

  /**
   * True when `signature` (as stored/sent) is valid for this batch. Never throws for bad
   * signature bytes (returns false); throws INVALID_OPERATION for unsupported modes (see top).
   */
  verify (treeHash: Uint8Array, length: number, fork: number, signature: Uint8Array | null): boolean {
    _assertBytes(treeHash, 'treeHash', 32)
    _assertUint(length, 'length')
    _assertUint(fork, 'fork')
    const m = this.manifest
    if (this.compat) {
      if (signature == null) return false
      return verify(compatSignable(treeHash, length, fork), signature, m.signers[0]!.publicKey)
    }
    if (m.version === 0) {
      if (signature == null) return false
      this._assertSupportedV0()
      return verify(this.signable(treeHash, length, fork, 0), signature, m.signers[0]!.publicKey)
    }
    // v1 prologue rule: lengths up to the prologue are fixed by hash, no signature needed.
    if (m.prologue !== null && length <= m.prologue.length) {
      return length === m.prologue.length && equalBytes(treeHash, m.prologue.hash)
    }
    if (signature == null) return false
    _assertBytes(signature, 'signature')
    let env: Multisig
    try {
      env = decodeMultisig(signature)
    } catch {
      return false
    }
    return this._verifyV1(env, treeHash, length, fork)
  }

  private _verifyV1 (env: Multisig, treeHash: Uint8Array, length: number, fork: number): boolean {
    const m = this.manifest
    if (env.proofs.length < m.quorum || m.quorum < 1) return false
    const signable = manifestV1Signable(this.key, treeHash, length, fork)
    const seen = new Set<number>()
    for (const proof of env.proofs) {
      if (proof.signer >= m.signers.length || seen.has(proof.signer)) return false
      seen.add(proof.signer)
      if (proof.patch !== 0) {
        if (!m.allowPatch) return false
        throw HypercoreError.INVALID_OPERATION('Patched multisig proofs are not supported')
      }
      if (!verify(signable, proof.signature, m.signers[proof.signer]!.publicKey)) return false
    }
    return env.patch.length === 0
  }

  private _assertSupportedV0 (): void {
    const m = this.manifest
    if (!this.compat && m.version === 0 && (m.signers.length !== 1 || m.allowPatch)) {
      throw HypercoreError.INVALID_OPERATION('v0 manifests with several signers or patches are not supported')
    }
  }
}
