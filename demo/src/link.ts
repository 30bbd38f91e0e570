/**
 * @module demo/link
 * Share links: a page URL whose hash is the core's id (z-base-32, hypercore@10's `core.id`).
 * The hash never reaches a server, so the key is known only to whoever has the link.
 */
import b4a from 'b4a'
import { decodeId, encodeId } from '../../src/crypto/id.js'

export type ParsedLink = { kind: 'none' } | { kind: 'key', key: Uint8Array, id: string } | { kind: 'bad', reason: string }

/** Reads a `#<id>` hash (also `#pear://<id>` or 64 hex characters). */
export function parseLink (hash: string): ParsedLink {
  const raw = decodeURIComponent(hash.replace(/^#/, '')).trim()
  if (raw === '') return { kind: 'none' }
  try {
    const key = decodeId(raw)
    return { kind: 'key', key, id: encodeId(key) }
  } catch {
    return { kind: 'bad', reason: `“${raw.length > 24 ? raw.slice(0, 24) + '…' : raw}” is not a dataset key: a link ends with # and 52 letters and digits. Ask for the link again, and copy it whole.` }
  }
}

/**
 * The link to a core for a page: `base` without its hash, then `#<id>`. Page options in the
 * query stay (`?relay`: the reader must meet the sharer on the same network) except
 * `paused`, which is about this tab only.
 */
export function shareLink (base: string, key: Uint8Array): string {
  const [page = '', query = ''] = base.replace(/#.*$/, '').split('?')
  const kept = query.split('&').filter(p => p !== '' && p.split('=')[0] !== 'paused')
  return page + (kept.length > 0 ? '?' + kept.join('&') : '') + '#' + encodeId(key)
}

/** Lowercase hex, for database names. */
export function hex (bytes: Uint8Array): string {
  return b4a.toString(bytes, 'hex')
}
