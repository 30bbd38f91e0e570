/**
 * @module replication/replicator/budget
 * Memory budgets for what peers tell us they store (remote-bitfield.ts). Budgets nest: one
 * process-wide budget, one per core under it, and each peer's own cap. A peer over its own cap
 * forgets its oldest pages; a core or the process over its budget takes pages from the peer
 * holding the most (usually the one inflating it), never from a smaller one: an honest peer
 * keeps what it announced while another fills memory. Forgetting is always safe: a forgotten
 * block just looks absent from that peer (we ask someone else, or nobody).
 */

/** A page or run store charged to budgets (RemoteBitfield implements it). */
export interface BudgetHolder {
  /** Bytes held now. */
  readonly bytes: number
  /** Frees at least one page (or run); returns the bytes freed (0: nothing left to free). */
  evict (): number
}

export class Budget {
  /** Most bytes all holders under this budget may keep. */
  limit: number
  readonly parent: Budget | null
  /** Bytes held by every holder under this budget (this budget's and its children's). */
  bytes = 0
  /** The holders charged here or below (each registers with every ancestor). */
  readonly holders = new Set<BudgetHolder>()

  constructor (limit: number, parent: Budget | null = null) {
    this.limit = limit
    this.parent = parent
  }

  /** Registers `h` with this budget and its ancestors. */
  add (h: BudgetHolder): void {
    for (let b: Budget | null = this; b !== null; b = b.parent) b.holders.add(h)
  }

  /** Unregisters `h` (its bytes must have been released first). */
  remove (h: BudgetHolder): void {
    for (let b: Budget | null = this; b !== null; b = b.parent) b.holders.delete(h)
  }

  /**
   * Makes room for `n` more bytes of `h` in this budget and its ancestors, taking pages from
   * larger holders when one is full. False when only `h` itself (or holders no larger than
   * it) could give them up: the caller then keeps less instead.
   */
  reserve (h: BudgetHolder, n: number): boolean {
    for (let b: Budget | null = this; b !== null; b = b.parent) {
      while (b.bytes + n > b.limit) {
        const victim = b._largest(h)
        if (victim === null || victim.evict() === 0) return false
      }
    }
    return true
  }

  charge (n: number): void {
    for (let b: Budget | null = this; b !== null; b = b.parent) b.bytes += n
  }

  release (n: number): void {
    for (let b: Budget | null = this; b !== null; b = b.parent) b.bytes -= n
  }

  /** The holder with the most bytes, if it holds more than `than` does (O(holders), only when full). */
  private _largest (than: BudgetHolder): BudgetHolder | null {
    let best: BudgetHolder | null = null
    for (const h of this.holders) if (h !== than && (best === null || h.bytes > best.bytes)) best = h
    return best !== null && best.bytes > than.bytes ? best : null
  }
}

/** Default process-wide budget for remote availability: 64 MiB. */
export const DEFAULT_PROCESS_BITFIELD_BYTES = 64 * 1024 * 1024
/** Default per-core budget: 16 MiB. */
export const DEFAULT_CORE_BITFIELD_BYTES = 16 * 1024 * 1024
/** Default per-peer cap: 4 MiB (1024 pages, about 33 million blocks announced sparsely). */
export const DEFAULT_PEER_BITFIELD_BYTES = 4 * 1024 * 1024

/**
 * The process-wide budget every core's budget draws from. Its `limit` may be changed (for
 * example lowered in a memory-constrained page); `bytes` is what all remote availability in
 * this process holds now.
 */
export const processBitfieldBudget = new Budget(DEFAULT_PROCESS_BITFIELD_BYTES)
