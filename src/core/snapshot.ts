/**
 * @module core/snapshot
 * The frozen view a snapshot session reads through (Hypercore 10: "a snapshot of the core at that
 * particular time", and checking out an earlier length). It keeps the roots of its
 * length and reads nodes from the shared tree file: nodes of a fork never change (§1.3), so
 * the view stays exact until a truncation cuts below it. From then on, blocks at or past the
 * truncation point are gone and reading them throws SNAPSHOT_NOT_AVAILABLE.
 *
 * Checkouts are `core.snapshot({ length })`: the same frozen view at any earlier length of
 * the current fork (its roots are read from the stored nodes).
 */
import { HypercoreError } from '../errors.js'
import { MerkleTree } from '../tree/merkle-tree.js'
import type { Core } from './core.js'

export class SnapshotView {
  readonly tree: MerkleTree
  /** Blocks `[0, validLength)` are still the snapshot's (no truncation went below them). */
  validLength: number

  private constructor (tree: MerkleTree) {
    this.tree = tree
    this.validLength = tree.length
  }

  /**
   * A view of `core` at `length` (default: its current length). The state is taken at one
   * instant: if a truncation applies while the roots of an earlier length are read, they are
   * read again on the new fork, so a view never mixes two forks.
   */
  static async at (core: Core, length?: number): Promise<SnapshotView> {
    for (;;) {
      const tree = core.tree
      const fork = tree.fork
      const current = tree.length
      const signature = tree.signature
      const at = length ?? current
      if (!Number.isSafeInteger(at) || at < 0 || at > current) {
        throw HypercoreError.BAD_ARGUMENT(`cannot check out length ${String(at)}: the core has ${current} blocks`)
      }
      let roots
      try {
        roots = await tree.getRoots(at)
      } catch (err) {
        if (tree.fork !== fork) continue
        throw err
      }
      if (tree.fork !== fork) continue
      return new SnapshotView(new MerkleTree(core.treeFile, { length: at, fork, roots, signature: at === current ? signature : null }))
    }
  }

  get length (): number { return this.tree.length }
  get byteLength (): number { return this.tree.byteLength }
  get fork (): number { return this.tree.fork }

  /** A truncation kept `ancestors` blocks: anything past them is no longer readable. */
  truncated (ancestors: number): void {
    this.validLength = Math.min(this.validLength, ancestors)
  }

  /** Throws SNAPSHOT_NOT_AVAILABLE unless block `index` is part of this snapshot. */
  check (index: number): void {
    if (index >= this.validLength) {
      throw HypercoreError.SNAPSHOT_NOT_AVAILABLE(index >= this.tree.length
        ? `block ${index} is past the snapshot (length ${this.tree.length})`
        : `block ${index} was truncated away after the snapshot was taken`)
    }
  }

  /** treeHash at `length` ≤ the snapshot's; needs the nodes, so not after a truncation below. */
  async treeHash (length = this.tree.length): Promise<Uint8Array> {
    if (length === this.tree.length) return this.tree.hash()
    if (length > this.validLength) throw HypercoreError.SNAPSHOT_NOT_AVAILABLE()
    let hash: Uint8Array
    try {
      hash = await this.tree.treeHash(length)
    } catch (err) {
      if (length > this.validLength) throw HypercoreError.SNAPSHOT_NOT_AVAILABLE() // cut meanwhile
      throw err
    }
    // A truncation below `length` while the nodes were read may have replaced some of them.
    if (length > this.validLength) throw HypercoreError.SNAPSHOT_NOT_AVAILABLE()
    return hash
  }
}
