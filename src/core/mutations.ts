/**
 * @module core/mutations
 * The three mutations of a core (append, truncate, clear), each run under the core's mutex
 * by the `Core` methods of the same name, in hypercore@10's crash-safe order (§6.1, see
 * core.ts): stored bytes first, then ONE oplog entry (the commit point), then the in-memory
 * state, then the flush schedule.
 *
 * Every read a mutation needs happens BEFORE its commit point (the bitfield pages it will
 * change are loaded, the contiguous byte length it will leave is computed), so after the entry is written nothing but the flush touches
 * storage, and a failing flush is deferred (core.ts): a mutation that committed resolves.
 */
import { HypercoreError } from '../errors.js'
import type { KeyPair } from '../crypto/types.js'
import type { OplogEntry } from './format/oplog-types.js'
import type { Core } from './core.js'
import { addReorgHint } from './replay.js'

/** Turns user blocks into stored blocks at `start` on `fork` (block encryption, §4). */
export type PreAppend = (blocks: Uint8Array[], start: number, fork: number) => Uint8Array[]

export interface AppendOptions {
  keyPair?: KeyPair | null
  preappend?: PreAppend | null
  /** Runs once the lock is held (a session refuses work queued before it closed). */
  check?: () => void
}

function signingKeyPair (core: Core, given: KeyPair | null | undefined): KeyPair {
  const keyPair = given ?? core.keyPair
  if (keyPair === null || keyPair.secretKey == null) throw HypercoreError.SESSION_NOT_WRITABLE()
  return keyPair
}

/** Appends blocks; `preappend` turns them into their stored form at the index and fork they really get. */
export async function appendBlocks (core: Core, blocks: Uint8Array[], opts: AppendOptions): Promise<{ length: number, byteLength: number }> {
  const keyPair = signingKeyPair(core, opts.keyPair)
  const tree = core.tree
  if (blocks.length === 0) return { length: tree.length, byteLength: tree.byteLength }
  const stored = opts.preappend != null ? opts.preappend(blocks, tree.length, tree.fork) : blocks

  const batch = tree.batch()
  for (const b of stored) batch.append(b)
  const hash = batch.hash()
  batch.signature = core.verifier.sign(hash, batch.length, batch.fork, keyPair)

  const entry: OplogEntry = {
    userData: null,
    treeNodes: batch.nodes,
    treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
    bitfield: { drop: false, start: batch.ancestors, length: stored.length }
  }
  await core.bitfield.loadRange(batch.ancestors, batch.length)
  await core.data.writeBlocks(tree.byteLength, stored)
  await core.oplog.append([entry]) // the commit point

  core.treeFile.put(batch.nodes)
  await core.bitfield.setRange(batch.ancestors, stored.length, true)
  core._commit(batch, hash)
  await core._updateContig(false, batch.ancestors, batch.length)
  core._emit({ type: 'append', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: batch.length })
  if (core._shouldFlush()) await core._flushAfterCommit()
  return { length: batch.length, byteLength: batch.byteLength }
}

/**
 * Truncates to `newLength` on fork `fork` (§3.5): one entry with the new (shorter) tree and
 * a bitfield drop, then always a flush (as hypercore@10 does: the tree file is cut there).
 */
export async function truncateBlocks (core: Core, newLength: number, fork: number, opts: { keyPair?: KeyPair | null }): Promise<void> {
  const keyPair = signingKeyPair(core, opts.keyPair)
  const tree = core.tree
  if (!Number.isSafeInteger(newLength) || newLength < 0 || newLength > tree.length) {
    throw HypercoreError.BAD_ARGUMENT(`cannot truncate to ${String(newLength)}: the core has ${tree.length} blocks`)
  }
  const oldLength = tree.length
  const batch = await tree.truncate(newLength, fork)
  const hash = batch.hash()
  batch.signature = newLength > 0 ? core.verifier.sign(hash, batch.length, batch.fork, keyPair) : null

  const entry: OplogEntry = {
    userData: null,
    treeNodes: batch.nodes,
    treeUpgrade: { fork: batch.fork, ancestors: batch.ancestors, length: batch.length, signature: batch.signature },
    bitfield: { drop: true, start: batch.ancestors, length: oldLength - batch.ancestors }
  }
  await core.bitfield.loadRange(batch.ancestors, oldLength)
  await core._prepareContiguous(Math.min(core.contiguousLength, batch.ancestors), batch.fork)
  await core.oplog.append([entry]) // the commit point

  // A fork change at the same length drops nothing (hypercore@10 blanks nothing either).
  if (newLength < oldLength) core.treeFile.truncate(newLength)
  await core.bitfield.setRange(batch.ancestors, oldLength - batch.ancestors, false)
  addReorgHint(core.header.hints.reorgs, tree.length, tree.fork, batch.fork, batch.ancestors)
  core._commit(batch, hash)
  await core._updateContig(true, batch.ancestors, oldLength)
  core._emit({ type: 'truncate', ancestors: batch.ancestors, length: batch.length, fork: batch.fork, start: batch.ancestors, end: oldLength })
  await core._flushAfterCommit()
}

/**
 * Clears blocks `[start, end)` (§6.4): one bitfield-drop entry, then the bytes are freed.
 * The freed byte range grows over neighbouring blocks that are already gone, as
 * hypercore@10 does, so repeated clears punch one hole instead of slivers.
 */
export async function clearBlocks (core: Core, start: number, end: number): Promise<void> {
  const tree = core.tree
  // hypercore@10 ignores a clear that starts at or past the end (no entry), but keeps an
  // end past it (the bits are dropped up to `end`).
  if (start >= tree.length || end <= start) return
  const entry: OplogEntry = { userData: null, treeNodes: null, treeUpgrade: null, bitfield: { drop: true, start, length: end - start } }
  await core.bitfield.loadRange(start, end)
  await core._prepareContiguous(Math.min(core.contiguousLength, start), tree.fork)
  await core.oplog.append([entry]) // the commit point
  await core.bitfield.setRange(start, end - start, false)
  await core._updateContig(true, start, end)

  // Freeing the bytes comes after the commit point and may fail on storage: the clear stays
  // done (the bits say the blocks are gone, reads refuse them), only the space is not given
  // back yet. The next clear next to or over this range punches it again (the hole grows
  // over blocks already gone), so nothing leaks for good.
  let punched: boolean
  try {
    punched = await punchHole(core, start, end)
  } catch {
    punched = true
  }
  // hypercore@10 stops here when no stored bytes are affected, without counting the
  // mutation towards the flush schedule (the entry replays the bits on open anyway).
  if (!punched) return
  core._emit({ type: 'clear', ancestors: tree.length, length: tree.length, fork: tree.fork, start, end })
  if (core._shouldFlush()) await core._flushAfterCommit()
}

/** Frees the data bytes of cleared blocks `[start, end)` and gone neighbours; false if none are stored. */
async function punchHole (core: Core, start: number, end: number): Promise<boolean> {
  const tree = core.tree
  let from = start
  while (from > 0 && !(await core.bitfield.get(from - 1))) from--
  let to = await core.bitfield.firstSet(end)
  if (to === -1 || to > tree.length) to = tree.length
  if (from >= to || from >= tree.length) return false
  const offset = await tree.byteOffset(from)
  const endOffset = await tree.byteOffset(to)
  await core.data.clear(offset, endOffset - offset)
  return true
}
