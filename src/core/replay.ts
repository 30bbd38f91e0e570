/**
 * @module core/replay
 * Header bookkeeping shared by live mutations and by open: the contiguous-length hint, the
 * reorg hints (§3.5), and replaying oplog entries on top of the flushed files (§6.1).
 */
import { MerkleTree } from '../tree/merkle-tree.js'
import type { TreeNode } from '../tree/types.js'
import type { BitfieldFile } from './format/bitfield-file.js'
import type { OplogEntry, OplogHeader, ReorgHint } from './format/oplog-types.js'
import type { TreeFile } from './format/tree-file.js'

/** At most this many reorg hints are kept in the header (§3.5). */
const MAX_REORG_HINTS = 4

/** Updates `header.hints.contiguousLength` after bits `[start, end)` were set or dropped. */
export async function updateContig (header: OplogHeader, bitfield: BitfieldFile, drop: boolean, start: number, end: number): Promise<void> {
  let c = header.hints.contiguousLength
  if (drop) {
    if (start < c) c = start
  } else if (start <= c && c <= end) {
    c = await bitfield.firstUnset(end)
  }
  header.hints.contiguousLength = c
}

/**
 * Records a fork change (§3.5): at most four hints, and hints whose common prefix is longer
 * than the new one are dropped (they describe history that no longer exists).
 */
export function addReorgHint (list: ReorgHint[], oldLength: number, oldFork: number, newFork: number, ancestors: number): void {
  if (oldLength === 0 || oldFork === newFork) return
  while (list.length >= MAX_REORG_HINTS) list.shift()
  while (list.length > 0 && list[list.length - 1]!.ancestors > ancestors) list.pop()
  list.push({ from: oldFork, to: newFork, ancestors })
}

/** Applies replayed oplog entries on top of the flushed files (open, §6.1). */
export async function replayEntries (entries: OplogEntry[], header: OplogHeader, treeFile: TreeFile, bitfield: BitfieldFile): Promise<void> {
  for (const e of entries) {
    if (e.userData !== null) {
      const i = header.userData.findIndex(u => u.key === e.userData!.key)
      if (i !== -1) header.userData.splice(i, 1)
      if (e.userData.value !== null) header.userData.push(e.userData)
    }
    if (e.treeUpgrade !== null && e.treeUpgrade.ancestors < header.tree.length) treeFile.truncate(e.treeUpgrade.ancestors)
    if (e.treeNodes !== null) treeFile.put(e.treeNodes as TreeNode[])
    if (e.bitfield !== null) {
      await bitfield.setRange(e.bitfield.start, e.bitfield.length, !e.bitfield.drop)
      await updateContig(header, bitfield, e.bitfield.drop, e.bitfield.start, e.bitfield.start + e.bitfield.length)
    }
    if (e.treeUpgrade !== null) {
      const u = e.treeUpgrade
      addReorgHint(header.hints.reorgs, header.tree.length, header.tree.fork, u.fork, u.ancestors)
      header.tree.fork = u.fork
      header.tree.length = u.length
      header.tree.signature = u.signature
    }
  }
  // The roots are read once, at the end: in between, the flushed tree file may already be
  // ahead of an entry (a crash after a truncation cut the file but before the header was
  // written), so the nodes of an intermediate length need not exist any more.
  if (entries.some(e => e.treeUpgrade !== null)) {
    header.tree.rootHash = (await MerkleTree.open(treeFile, { length: header.tree.length })).hash()
  }
}
