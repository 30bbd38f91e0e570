/**
 * @module test/helpers/idb-fault
 * Faults injected into IndexedDB transactions, the same way in Node (fake-indexeddb) and in
 * browsers: an abort with the error a browser reports (a full disk, a lost connection).
 *
 * The adapter calls `tx.commit()` as soon as a transaction's requests are issued, after which
 * `abort()` throws. A real fault can still strike while a transaction commits (the browser
 * then fires `abort`, as for any other failure); to inject one later in the task, `abortSoon`
 * first keeps that transaction's early commit from happening.
 */

/** Aborts `tx` with `error` as its `tx.error` (null: a plain abort). Does nothing if it already finished. */
export function abortWith (tx: IDBTransaction, error: DOMException | null = null): void {
  try {
    if (error !== null) Object.defineProperty(tx, 'error', { configurable: true, get: () => error, set: () => {} })
    tx.abort()
  } catch {}
}

/** Aborts `tx` in a microtask, after the adapter has issued its requests (see the top of this file). */
export function abortSoon (tx: IDBTransaction, error: DOMException | null = null): void {
  Object.defineProperty(tx, 'commit', { configurable: true, value: () => {} })
  queueMicrotask(() => abortWith(tx, error))
}
