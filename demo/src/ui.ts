/**
 * @module demo/ui
 * Small DOM and formatting helpers shared by the demo pages (no framework): element lookup,
 * notices, byte/rate formatting, a sliding-window rate meter, and the storage estimate.
 */
import { HypercoreError } from '../../src/errors.js'

export function $<T extends HTMLElement = HTMLElement> (id: string): T {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`#${id} is missing from the page`)
  return el as T
}

/** `h('li', { class: 'x' }, 'text', child)`: a tiny element builder. */
export function h (tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  el.append(...children)
  return el
}

export type NoticeKind = 'info' | 'warn' | 'error' | 'ok'

/** Shows (or with `text` null hides) the page's notice bar; `id` lets tests find the reason. */
export function notice (text: string | null, kind: NoticeKind = 'info', reason = ''): void {
  const el = $('notice')
  el.hidden = text === null
  el.className = `notice ${kind}`
  el.dataset.reason = reason
  el.textContent = text ?? ''
}

export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`
}

/** Bytes per second over the last few seconds. */
export class RateMeter {
  private readonly _samples: Array<[number, number]> = []
  constructor (private readonly windowMs = 3000) {}
  add (bytes: number, now = performance.now()): void {
    this._samples.push([now, bytes])
    this._trim(now)
  }

  rate (now = performance.now()): number {
    this._trim(now)
    if (this._samples.length === 0) return 0
    const total = this._samples.reduce((n, [, b]) => n + b, 0)
    return total / (Math.max(1000, now - this._samples[0]![0]) / 1000)
  }

  private _trim (now: number): void {
    while (this._samples.length > 0 && now - this._samples[0]![0] > this.windowMs) this._samples.shift()
  }
}

export interface StorageFacts { usage: number, quota: number, persisted: boolean | null }

export async function storageFacts (): Promise<StorageFacts> {
  const est = await navigator.storage?.estimate?.().catch(() => null) ?? null
  const persisted = await navigator.storage?.persisted?.().catch(() => null) ?? null
  return { usage: est?.usage ?? 0, quota: est?.quota ?? 0, persisted }
}

/** Asks the browser to keep this origin's data (it may say no; the data is kept until evicted). */
export async function askPersist (): Promise<boolean> {
  try { return await navigator.storage?.persist?.() ?? false } catch { return false }
}

export async function showStorage (el: HTMLElement): Promise<StorageFacts> {
  const f = await storageFacts()
  const kept = f.persisted === true ? 'kept (persistent)' : 'may be evicted when space runs low'
  el.textContent = f.quota > 0 ? `Storage: ${formatBytes(f.usage)} used of ${formatBytes(f.quota)} available to this site · ${kept}` : 'Storage: the browser does not report its quota'
  return f
}

/** A person's words for an error the library raised. */
export function explain (err: unknown): { text: string, reason: string } {
  if (HypercoreError.is(err, 'STORAGE_QUOTA')) {
    return { reason: 'quota', text: 'Your browser is out of storage space for this site (QuotaExceeded). Free some space — delete a dataset below, or clear other sites’ data — then try again. What was saved so far is kept.' }
  }
  if (HypercoreError.is(err, 'STORAGE_LOST') || HypercoreError.is(err, 'STORAGE_ABORTED')) {
    return { reason: 'storage', text: 'The browser’s storage stopped answering. Reload the page: what was saved so far is kept.' }
  }
  if (HypercoreError.is(err, 'DECODING_ERROR')) {
    const msg = err.message.replace(/^DECODING_ERROR: /, '')
    // drive.ts words what the key leads to: not a Hyperbee header, or a Hyperbee without blobs.
    if (msg.startsWith('not a Hyperdrive')) return { reason: 'not-drive', text: `This link does not lead to shared files: the Hypercore it names is not a Hyperdrive (${msg.replace(/^not a Hyperdrive: /, '')}). Perhaps it is an offline log’s link; ask for the link to the files again.` }
    return { reason: 'format', text: `This drive cannot be shown: ${msg}.` }
  }
  const msg = err instanceof Error ? err.message : String(err)
  return { reason: 'error', text: `Something went wrong: ${msg}` }
}
