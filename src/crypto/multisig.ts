/**
 * @module crypto/multisig
 * The manifest-v1 signature envelope (spec §2.2), used even for a single signer:
 *   array(proof { uint signer ‖ fixed64 signature ‖ uint patch }) ‖ array(node { uint index ‖ uint size ‖ fixed32 hash })
 * One signer, no patch: `01 00 <sig64> 00 00` (68 bytes).
 */
import c from 'compact-encoding'
import { HypercoreError } from '../errors.js'
import { _assertBytes, _assertUint } from './bytes.js'
import type { TreeNode } from './types.js'

export interface MultisigProof {
  /** Index of the signer in the manifest's signer list. */
  signer: number
  signature: Uint8Array
  /** Length of the patch (0 = this signer signed the batch's own length). */
  patch: number
}

export interface Multisig {
  proofs: MultisigProof[]
  patch: TreeNode[]
}

type State = ReturnType<typeof c.state>

const proofEnc = {
  preencode (state: State, p: MultisigProof): void {
    c.uint.preencode(state, p.signer)
    state.end += 64
    c.uint.preencode(state, p.patch)
  },
  encode (state: State, p: MultisigProof): void {
    c.uint.encode(state, p.signer)
    c.fixed64.encode(state, p.signature)
    c.uint.encode(state, p.patch)
  },
  decode (state: State): MultisigProof {
    return { signer: c.uint.decode(state), signature: c.fixed64.decode(state).slice(), patch: c.uint.decode(state) }
  }
}

const nodeEnc = {
  preencode (state: State, n: TreeNode): void {
    c.uint.preencode(state, n.index)
    c.uint.preencode(state, n.size)
    state.end += 32
  },
  encode (state: State, n: TreeNode): void {
    c.uint.encode(state, n.index)
    c.uint.encode(state, n.size)
    c.fixed32.encode(state, n.hash)
  },
  decode (state: State): TreeNode {
    return { index: c.uint.decode(state), size: c.uint.decode(state), hash: c.fixed32.decode(state).slice() }
  }
}

const proofs = c.array(proofEnc)
const nodes = c.array(nodeEnc)

export function encodeMultisig (m: Multisig): Uint8Array {
  for (const p of m.proofs) {
    _assertUint(p.signer, 'proof.signer')
    _assertUint(p.patch, 'proof.patch')
    _assertBytes(p.signature, 'proof.signature', 64)
  }
  const state = c.state()
  proofs.preencode(state, m.proofs)
  nodes.preencode(state, m.patch)
  state.buffer = new Uint8Array(state.end)
  proofs.encode(state, m.proofs)
  nodes.encode(state, m.patch)
  return state.buffer
}

/** Decodes a whole envelope; truncation or trailing bytes throw DECODING_ERROR. */
export function decodeMultisig (bytes: Uint8Array): Multisig {
  _assertBytes(bytes, 'signature')
  const state = c.state(0, bytes.byteLength, bytes)
  let m: Multisig
  try {
    m = { proofs: proofs.decode(state), patch: nodes.decode(state) }
  } catch (err) {
    throw HypercoreError.DECODING_ERROR('Could not decode multisig envelope', err)
  }
  if (state.start !== state.end) throw HypercoreError.DECODING_ERROR('trailing bytes after multisig envelope')
  return m
}
