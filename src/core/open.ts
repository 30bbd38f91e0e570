/**
 * @module core/open
 * Opens (or creates) the shared core state on a storage (§6). Opening reads the oplog (two
 * header slots plus at most ~64 KiB of entries), stats the other files and reads the roots of
 * the tree: never the blocks, the whole tree or the whole bitfield, so open time does not
 * grow with the length of the core. Creating writes the header at once, as hypercore@10 does.
 */
import { HypercoreError } from '../errors.js'
import { equalBytes } from '../crypto/bytes.js'
import { defaultManifest, isCompat, manifestHash, type Manifest } from '../crypto/manifest.js'
import { keyPair as randomKeyPair } from '../crypto/sign.js'
import type { KeyPair } from '../crypto/types.js'
import { Verifier } from '../crypto/verifier.js'
import { promisify } from '../storage/promises.js'
import type { StorageFactory } from '../storage/types.js'
import { MerkleTree } from '../tree/merkle-tree.js'
import { BitfieldFile } from './format/bitfield-file.js'
import { DataFile } from './format/data-file.js'
import { Oplog } from './format/oplog.js'
import type { OplogHeader } from './format/oplog-types.js'
import { TreeFile } from './format/tree-file.js'
import { Core, type CoreFiles } from './core.js'
import { replayEntries } from './replay.js'

export interface OpenOptions {
  /** The core key; null = whatever the storage holds (or a new key pair). */
  key: Uint8Array | null
  /** A key pair to create the core with (or to sign with, when it matches the stored key). */
  keyPair: { publicKey: Uint8Array, secretKey?: Uint8Array | null } | null
  createIfMissing: boolean
  overwrite: boolean
  /** Never write (hypercore@10's `unlocked`): no core is created, nothing is repaired. */
  readOnly?: boolean
  /** false: a new core's key is its manifest's hash (hypercore@10's `compat`; see `createHeader`). */
  compat?: boolean
  /** Who signs the core (checked); a new core is made with it, an existing one must hash to its key. */
  manifest?: Manifest | null
  /** A stored core of another key than `key` is replaced by a new one. */
  force?: boolean
}

export const FILE_NAMES = ['oplog', 'tree', 'bitfield', 'data', 'header'] as const

export async function openCore (factory: StorageFactory, opts: OpenOptions): Promise<Core> {
  const files: CoreFiles = {
    oplog: factory('oplog'),
    tree: factory('tree'),
    bitfield: factory('bitfield'),
    data: factory('data'),
    header: factory('header')
  }
  try {
    return await _open(files, opts)
  } catch (err) {
    // Closing every file also releases a shared store's connection (IdbStorage does when
    // its last open file closes), so a failed open leaves nothing locked.
    for (const f of Object.values(files)) await promisify(f).close().catch(() => {})
    throw err
  }
}

async function _open (files: CoreFiles, opts: OpenOptions): Promise<Core> {
  const readOnly = opts.readOnly === true
  if (opts.overwrite && readOnly) throw HypercoreError.BAD_ARGUMENT('overwrite needs a writable (locked) core')
  // Overwriting drops the header first: from then on no core is stored here, and the create
  // path below clears the rest (so an interrupted overwrite reopens as "no core", never as
  // the old core's files under a new header).
  if (opts.overwrite && files.oplog.truncatable) await promisify(files.oplog).truncate(0)
  let oplog = new Oplog(files.oplog, { headerFile: files.header, readOnly })
  let opened = await oplog.open()
  // `force` (hypercore@10): a core of another key is replaced, as an overwrite would.
  if (opts.force === true && opts.key !== null && opened.header !== null && !equalBytes(opened.header.key, opts.key) && !readOnly) {
    await promisify(files.oplog).truncate(0)
    oplog = new Oplog(files.oplog, { headerFile: files.header })
    opened = await oplog.open()
  }
  let header = opened.header
  const entries = opened.entries

  if (header === null) {
    if (!opts.createIfMissing || readOnly) throw HypercoreError.STORAGE_EMPTY('No Hypercore is stored here')
    header = createHeader(opts)
    await clearLeftovers(files)
    await oplog.flush(header)
  } else {
    if (opts.manifest != null) {
      // A manifest given for an existing core must be its own; a reader's header may not
      // have stored one yet (it knew only the key).
      if (opts.key === null && !equalBytes(manifestHash(opts.manifest), header.key) && !isCompat(header.key, opts.manifest)) {
        throw HypercoreError.STORAGE_CONFLICT('Manifest does not hash to the key of the core stored here')
      }
      if (header.manifest === null) header.manifest = opts.manifest
    }
    if (opts.key !== null && !equalBytes(header.key, opts.key)) throw HypercoreError.STORAGE_CONFLICT('Another Hypercore is stored here')
    const signers = header.manifest !== null ? header.manifest.signers.map(s => s.publicKey) : [header.key]
    if (opts.keyPair !== null && !signers.some(pk => equalBytes(pk, opts.keyPair!.publicKey))) {
      throw HypercoreError.STORAGE_CONFLICT('The key pair does not sign the core stored here')
    }
  }

  // Every file open before the first mutation: a durability group orders writes between
  // open files only (storage/types.ts), and the data file is otherwise first touched by one.
  await Promise.all([files.data, files.header].map(f => promisify(f).open()))
  const treeFile = await TreeFile.open(files.tree)
  const bitfield = await BitfieldFile.open(files.bitfield)
  const data = new DataFile(files.data)
  await replayEntries(entries, header, treeFile, bitfield)
  const tree = await MerkleTree.open(treeFile, { length: header.tree.length, fork: header.tree.fork, signature: header.tree.signature })
  const verifier = new Verifier({ key: header.key, manifest: header.manifest })

  let keyPair: KeyPair | null = null
  if (opts.keyPair?.secretKey != null) keyPair = { publicKey: opts.keyPair.publicKey, secretKey: opts.keyPair.secretKey }
  else if (header.keyPair?.secretKey != null) keyPair = { publicKey: header.keyPair.publicKey, secretKey: header.keyPair.secretKey }

  const core = new Core({ files, oplog, treeFile, bitfield, data, header, tree, verifier, keyPair, readOnly })
  await core._refreshContiguous() // reads nothing unless blocks are missing (a sparse replica)
  return core
}

/**
 * Before a new core's header is written: a storage without a header must hold no other file
 * either. A purge or an overwrite interrupted after the oplog went leaves the old core's
 * tree, bitfield and data behind; adopted by a new core (of another key, say), they would be
 * served as its blocks without ever being verified. Each is emptied before the header that
 * makes the new core exist.
 */
async function clearLeftovers (files: CoreFiles): Promise<void> {
  for (const f of [files.tree, files.bitfield, files.data, files.header]) {
    const io = promisify(f)
    if (!f.statable || !f.truncatable) continue
    if ((await io.stat()).size > 0) await io.truncate(0)
  }
}

/**
 * A new header, as hypercore@10 writes it (checked byte for byte). A compat core (the default
 * without a manifest, §2.3) has the writer's public key as its key; `compat: false` or a
 * manifest makes the key the manifest's hash. A writer stores its key pair and its manifest
 * (the default single-signer one of its public key unless one is given); a reader given only
 * a key stores neither.
 */
function createHeader (opts: OpenOptions): OplogHeader {
  const manifestGiven = opts.manifest ?? null
  const compat = opts.compat === true || (opts.compat !== false && manifestGiven === null)
  if (compat && opts.key !== null && opts.keyPair !== null && !equalBytes(opts.key, opts.keyPair.publicKey)) {
    throw HypercoreError.BAD_ARGUMENT('Key must match publicKey when in compat mode')
  }
  const kp = opts.keyPair ?? (opts.key === null ? randomKeyPair() : null)
  const useDefault = manifestGiven === null && (opts.compat === true || opts.key === null || (kp !== null && equalBytes(opts.key, kp.publicKey)))
  const manifest = useDefault ? defaultManifest(opts.key ?? kp!.publicKey) : manifestGiven
  let key = opts.key
  if (key === null) {
    if (manifest === null) throw HypercoreError.BAD_ARGUMENT('a new core needs a key, a key pair or a manifest')
    key = compat ? manifest.signers[0]!.publicKey : manifestHash(manifest)
  }
  return {
    external: null,
    key,
    manifest,
    keyPair: kp === null ? null : { publicKey: kp.publicKey, secretKey: kp.secretKey ?? null },
    userData: [],
    tree: { fork: 0, length: 0, rootHash: null, signature: null },
    hints: { reorgs: [], contiguousLength: 0 }
  }
}
