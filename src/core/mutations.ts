/**
 * @module core/mutations
 * The three local mutations of a core (append, truncate, clear), as prepare steps for
 * `Core._mutate` (core.ts): each computes its change, issues its writes in hypercore@10's
 * crash-safe order (§6.1: stored bytes first, then ONE oplog entry, the commit point) and
 * returns the apply step that changes the in-memory state once they are durable, plus the
 * flush schedule.
 *
 * Every read a mutation needs happens BEFORE its commit point (the bitfield pages it will
 * change are loaded, the contiguous byte length it will leave is computed), so once the entry
 * is durable nothing but the flush touches storage, and a failing flush is deferred
 * (core.ts): a mutation that committed resolves.
 *
 * Appends build on `core.head` (the last append prepared, not yet applied) rather than on the
 * tree, so a run of appends can be prepared while the first commits. Truncate and clear run
 * alone (barriers in core.ts) and read the tree as it is.
 */
import { HypercoreError } from '../errors.js'
import type { KeyPair } from '../crypto/types.js'
import type { OplogEntry } from './format/oplog-types.js'
import type { Core, Prepared } from './core.js'
import { addReorgHint } from './replay.js'
import { equalBytes } from '../crypto/bytes.js'

/** Turns user blocks into stored blocks at `start` on `fork` (block encryption, §4). */
export type PreAppend = (blocks: Uint8Array[], start: number, fork: number) => Uint8Array[]

export interface AppendOptions {
  keyPair?: KeyPair | null
  /** A signature made elsewhere for the new length (a multisig flow), used instead of signing. */
  signature?: Uint8Array | null
  preappend?: PreAppend | null
  /** Runs once the lock is held (a session refuses work queued before it closed). */
  check?: () => void
}

function signingKeyPair (core: Core, given: KeyPair | null | undefined): KeyPair {
  const keyPair = given ?? core.keyPair
  if (keyPair === null || keyPair.secretKey == null) throw HypercoreError.SESSION_NOT_WRITABLE()
  return keyPair
}

/** The signature of a new tree state: the one given (checked first), or ours. */
function signatureFor (core: Core, hash: Uint8Array, length: number, fork: number, opts: { keyPair?: KeyPair | null, signature?: Uint8Array | null }): Uint8Array {
  if (opts.signature != null) {
    if (!core.verifier.verify(hash, length, fork, opts.signature)) throw HypercoreError.INVALID_SIGNATURE('the given signature does not sign the new tree')
    return opts.signature
  }
  return core.verifier.sign(hash, length, fork, signingKeyPair(core, opts.keyPair))
}

/** The oplog entry write, noting where the oplog ends once it is written (the rollback point, core.ts). */
function stageEntry (core: Core, entry: OplogEntry, end: { at: { byteLength: number, length: number } | null }): () => Promise<unknown> {
  return () => {
    const written = core.oplog.stage([entry])
    end.at = core.oplog.position
    return written
  }
}

/** Appends blocks; `preappend` turns them into their stored form at the index and fork they really get. */
export async function prepareAppend (core: Core, blocks: Uint8Array[], opts: AppendOptions): Promise<Prepared<{ length: number, byteLength: number }>> {
  if (opts.signature == null) signingKeyPair(core, opts.keyPair) // refuses a core we cannot sign before anything else
  const batch = core.tree.batch(core.head ?? undefined)
  if (blocks.length === 0) return { value: { length: batch.length, byteLength: batch.byteLength } }
  const offset = batch.byteLength
  const stored = opts.preappend != null ? opts.preappend(blocks, batch.length, batch.fork) : blocks
  for (const b of stored) batch.append(b)
  const hash = batch.hash()
  batch.signature = signatureFor(core, hash, batch.length, batch.fork, opts)

  const entry: OplogEntry = {
    userData: null,
    treeNodes: batch.nodes,
    treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
    bitfield: { drop: false, start: batch.ancestors, length: stored.length }
  }
  await core.bitfield.loadRange(batch.ancestors, batch.length)
  const end = { at: null as { byteLength: number, length: number } | null }
  const durable = core._issue([() => core.data.writeBlocks(offset, stored), stageEntry(core, entry, end)]) // the entry is the commit point
  core._advanceHead(batch)

  return {
    step: {
      durable,
      apply: async () => {
        core._oplogApplied(end.at!)
        core.treeFile.put(batch.nodes)
        await core.bitfield.setRange(batch.ancestors, stored.length, true)
        core._commit(batch, hash)
        await core._updateContig(false, batch.ancestors, batch.length)
        core._emit({ type: 'append', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: batch.length })
        core._scheduleFlush()
        return { length: batch.length, byteLength: batch.byteLength }
      }
    }
  }
}

/**
 * Truncates to `newLength` on fork `fork` (§3.5): one entry with the new (shorter) tree and
 * a bitfield drop, then always a flush (as hypercore@10 does: the tree file is cut there).
 */
export async function prepareTruncate (core: Core, newLength: number, fork: number, opts: { keyPair?: KeyPair | null, signature?: Uint8Array | null }): Promise<Prepared<void>> {
  if (opts.signature == null) signingKeyPair(core, opts.keyPair)
  const tree = core.tree
  if (!Number.isSafeInteger(newLength) || newLength < 0 || newLength > tree.length) {
    throw HypercoreError.BAD_ARGUMENT(`cannot truncate to ${String(newLength)}: the core has ${tree.length} blocks`)
  }
  const oldLength = tree.length
  const batch = await tree.truncate(newLength, fork)
  const hash = batch.hash()
  batch.signature = newLength > 0 ? signatureFor(core, hash, batch.length, batch.fork, opts) : null

  const entry: OplogEntry = {
    userData: null,
    treeNodes: batch.nodes,
    treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
    bitfield: { drop: true, start: batch.ancestors, length: oldLength - batch.ancestors }
  }
  await core.bitfield.loadRange(batch.ancestors, oldLength)
  await core._prepareContiguous(Math.min(core.contiguousLength, batch.ancestors), batch.fork)
  const end = { at: null as { byteLength: number, length: number } | null }
  const durable = core._issue([stageEntry(core, entry, end)]) // the commit point

  return {
    step: {
      durable,
      apply: async () => {
        core._oplogApplied(end.at!)
        // A fork change at the same length drops nothing (hypercore@10 blanks nothing either).
        if (newLength < oldLength) core.treeFile.truncate(newLength)
        await core.bitfield.setRange(batch.ancestors, oldLength - batch.ancestors, false)
        addReorgHint(core.header.hints.reorgs, tree.length, tree.fork, batch.fork, batch.ancestors)
        core._commit(batch, hash)
        await core._updateContig(true, batch.ancestors, oldLength)
        core._emit({ type: 'truncate', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: oldLength })
        core._scheduleFlush(true)
      }
    }
  }
}

/**
 * Clears blocks `[start, end)` (§6.4): one bitfield-drop entry, then the bytes are freed.
 * The freed byte range grows over neighbouring blocks that are already gone, as
 * hypercore@10 does, so repeated clears punch one hole instead of slivers.
 */
export async function prepareClear (core: Core, start: number, end: number): Promise<Prepared<number>> {
  const tree = core.tree
  // hypercore@10 ignores a clear that starts at or past the end (no entry), but keeps an
  // end past it (the bits are dropped up to `end`).
  if (start >= tree.length || end <= start) return { value: 0 }
  const entry: OplogEntry = { userData: null, treeNodes: null, treeUpgrade: null, bitfield: { drop: true, start, length: end - start } }
  await core.bitfield.loadRange(start, end)
  await core._prepareContiguous(Math.min(core.contiguousLength, start), tree.fork)
  const oplogEnd = { at: null as { byteLength: number, length: number } | null }
  const durable = core._issue([stageEntry(core, entry, oplogEnd)]) // the commit point

  return {
    step: {
      durable,
      apply: async () => {
        core._oplogApplied(oplogEnd.at!)
        await core.bitfield.setRange(start, end - start, false)
        await core._updateContig(true, start, end)

        // Freeing the bytes comes after the commit point and may fail on storage: the clear
        // stays done (the bits say the blocks are gone, reads refuse them), only the space is
        // not given back yet. The next clear next to or over this range punches it again (the
        // hole grows over blocks already gone), so nothing leaks for good.
        let freed: number | null
        try {
          freed = await punchHole(core, start, end)
        } catch {
          freed = 0
        }
        // hypercore@10 stops here when no stored bytes are affected, without counting the
        // mutation towards the flush schedule (the entry replays the bits on open anyway).
        if (freed === null) return 0
        core._emit({ type: 'clear', ancestors: tree.length, length: tree.length, fork: tree.fork, start, end })
        core._scheduleFlush()
        return freed
      }
    }
  }
}

/**
 * Frees the data bytes of cleared blocks `[start, end)` and gone neighbours: the bytes freed,
 * or null when no stored bytes are affected.
 */
async function punchHole (core: Core, start: number, end: number): Promise<number | null> {
  const tree = core.tree
  let from = start
  while (from > 0 && !(await core.bitfield.get(from - 1))) from--
  let to = await core.bitfield.firstSet(end)
  if (to === -1 || to > tree.length) to = tree.length
  if (from >= to || from >= tree.length) return null
  const offset = await tree.byteOffset(from)
  const endOffset = await tree.byteOffset(to)
  await core.data.clear(offset, endOffset - offset)
  return endOffset - offset
}

/**
 * Sets (or, with a null value, deletes) one user data entry of the header (hypercore@10's
 * `setUserData`): an oplog entry carrying it, then the header's list; `flush` writes the
 * header at once. Setting what is already there writes nothing.
 */
export async function prepareUserData (core: Core, key: string, value: Uint8Array | null, flush: boolean): Promise<Prepared<void>> {
  const current = core.header.userData.find(u => u.key === key)
  if (current === undefined ? value === null : value !== null && current.value !== null && equalBytes(current.value, value)) return { value: undefined }
  const entry: OplogEntry = { userData: { key, value }, treeNodes: null, treeUpgrade: null, bitfield: null }
  const end = { at: null as { byteLength: number, length: number } | null }
  const durable = core._issue([stageEntry(core, entry, end)]) // the commit point
  return {
    step: {
      durable,
      apply: async () => {
        core._oplogApplied(end.at!)
        const list = core.header.userData
        const i = list.findIndex(u => u.key === key)
        if (i !== -1) list.splice(i, 1)
        if (value !== null) list.push({ key, value })
        core._scheduleFlush(flush)
      }
    }
  }
}
