/**
 * @module tree/memory-node-store
 * A `NodeReader` kept in a Map: the in-memory node cache of a core, and the store tests use.
 * Its `truncate`/`blank` mirror what the tree file does on truncation (§6.2).
 */
import type { NodeReader, TreeNode } from './types.js'

export class MemoryNodeStore implements NodeReader {
  private readonly nodes = new Map<number, TreeNode>()

  async get (index: number): Promise<TreeNode | null> {
    return this.nodes.get(index) ?? null
  }

  getCached (index: number): TreeNode | null {
    return this.nodes.get(index) ?? null
  }

  /** Synchronous lookup, for callers that already hold the cache. */
  getSync (index: number): TreeNode | null {
    return this.nodes.get(index) ?? null
  }

  has (index: number): boolean {
    return this.nodes.has(index)
  }

  put (nodes: Iterable<TreeNode>): void {
    for (const n of nodes) this.nodes.set(n.index, n)
  }

  delete (index: number): void {
    this.nodes.delete(index)
  }

  /** Drops every node with flat index ≥ `fromIndex` (the tree file truncation of §6.2). */
  truncate (fromIndex: number): void {
    for (const i of [...this.nodes.keys()]) if (i >= fromIndex) this.nodes.delete(i)
  }

  get size (): number {
    return this.nodes.size
  }

  indexes (): number[] {
    return [...this.nodes.keys()].sort((a, b) => a - b)
  }
}
