/**
 * @module storage/indexeddb/errors
 * Maps IndexedDB failures to our typed storage errors. Browsers report the same fault in
 * different places: a full disk may fail the request or only show up
 * as the transaction's `error` on `abort`; a dropped connection (Safari's "Connection to
 * Indexed Database server lost", or any `db.transaction()` on a closed connection) is an
 * UnknownError or InvalidStateError.
 */
import { HypercoreError } from '../../errors.js'

function nameOf (err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : ''
}

function messageOf (err: unknown): string {
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message
  return String(err)
}

/** True for the faults after which the store must be reopened (a fresh `createStore`). */
export function isLostConnection (err: unknown): boolean {
  if (HypercoreError.is(err, 'STORAGE_LOST')) return true
  const name = nameOf(err)
  if (name === 'InvalidStateError') return true
  return name === 'UnknownError' && /connection.*lost|server lost/i.test(messageOf(err))
}

export function isQuota (err: unknown): boolean {
  const name = nameOf(err)
  return name === 'QuotaExceededError' || (err as { code?: unknown } | null)?.code === 22
}

export function mapIdbError (err: unknown): HypercoreError {
  if (err instanceof HypercoreError) return err
  const msg = `IndexedDB: ${nameOf(err) || 'error'}: ${messageOf(err)}`
  if (isQuota(err)) return HypercoreError.STORAGE_QUOTA(msg, err)
  if (nameOf(err) === 'AbortError') return HypercoreError.STORAGE_ABORTED(msg, err)
  if (isLostConnection(err)) return HypercoreError.STORAGE_LOST(msg, err)
  return HypercoreError.STORAGE_IO(msg, err)
}

/** The error an aborted transaction carries (`tx.error` is null when it was aborted explicitly). */
export function abortReason (tx: IDBTransaction): unknown {
  let err: unknown = null
  try { err = tx.error } catch {}
  return err ?? new DOMException('The transaction was aborted', 'AbortError')
}
