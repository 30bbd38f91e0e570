/**
 * @module test/store/helpers
 * Helpers for the store tests: corestore@6 as the reference, piping two store streams
 * together, and what a directory holds.
 */
import { createRequire } from 'node:module'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
export const RefCorestore = require('corestore') as any
export const RAM = require('random-access-memory') as any
export const refCrypto = require('hypercore-crypto') as any

/** Pipes `a.replicate(true)` into `b.replicate(false)` (stores or cores, ours or corestore@6). */
export function connectStores (a: any, b: any): { sa: any, sb: any, done: () => Promise<void> } {
  const sa = a.replicate(true, { keepAlive: false })
  const sb = b.replicate(false, { keepAlive: false })
  sa.pipe(sb).pipe(sa)
  sa.on('error', () => {})
  sb.on('error', () => {})
  const closed = (s: any): Promise<void> => new Promise(resolve => { if (s.destroyed) resolve(); else s.once('close', () => resolve()) })
  return {
    sa,
    sb,
    done: async () => {
      sa.destroy()
      sb.destroy()
      await Promise.all([closed(sa), closed(sb)])
    }
  }
}

/** Every file under `dir` (relative path → size), sorted. */
export function listFiles (dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const st = statSync(join(dir, rel))
    if (st.isFile()) out[rel] = st.size
  }
  return out
}

export function readBytes (path: string): Buffer {
  return readFileSync(path)
}

/** Open file descriptors of this process (Linux). */
export function openFds (): number {
  return readdirSync('/proc/self/fd').length
}

export function hexOf (b: Uint8Array | null | undefined): string {
  return b == null ? '' : Buffer.from(b).toString('hex')
}
