/**
 * @module core/format/oplog-types
 * The records the oplog stores (spec §6.1), as plain data: the header and the entries.
 * Their byte layouts are in oplog-encoding.ts.
 */
import type { Manifest } from '../../crypto/manifest.js'
import type { TreeNode } from '../../crypto/types.js'

export type { Manifest, TreeNode }

export interface KeyPairRecord {
  publicKey: Uint8Array
  /** null for a key pair stored without its secret (a read-only core that knows its signer). */
  secretKey: Uint8Array | null
}

/** One user-data pair. A null value means "delete the key" (an empty buffer decodes to null too). */
export interface UserDataRecord {
  key: string
  value: Uint8Array | null
}

export interface TreeHeader {
  fork: number
  length: number
  /** The tree hash of `length` blocks; null for an empty core (encoded as an empty buffer). */
  rootHash: Uint8Array | null
  signature: Uint8Array | null
}

/** A reorg hint (spec §3.5): the fork moved `from` → `to`, keeping `ancestors` blocks. */
export interface ReorgHint {
  from: number
  to: number
  ancestors: number
}

export interface HeaderHints {
  reorgs: ReorgHint[]
  contiguousLength: number
}

/** Where the real header lives in the `header` file when it is too big for a slot (§6.5). */
export interface ExternalHeader {
  start: number
  length: number
}

/** The full oplog header (version 1 record). `external` is always null here. */
export interface OplogHeader {
  external: null
  key: Uint8Array
  manifest: Manifest | null
  keyPair: KeyPairRecord | null
  userData: UserDataRecord[]
  tree: TreeHeader
  hints: HeaderHints
}

/** What a slot holds when the header went to the `header` file: only the pointer. */
export interface ExternalHeaderPointer {
  external: ExternalHeader
}

/** What a header slot decodes to: the header itself or a pointer to the big one. */
export type StoredHeader = OplogHeader | ExternalHeaderPointer

export interface TreeUpgrade {
  fork: number
  ancestors: number
  length: number
  signature: Uint8Array | null
}

export interface BitfieldUpdate {
  /** true = clear bits (truncate/clear), false = set bits (append/download). */
  drop: boolean
  start: number
  length: number
}

/** One oplog entry. A null field is absent (its flag bit is 0). */
export interface OplogEntry {
  userData: UserDataRecord | null
  treeNodes: TreeNode[] | null
  treeUpgrade: TreeUpgrade | null
  bitfield: BitfieldUpdate | null
}
