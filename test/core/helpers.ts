/**
 * @module test/core/helpers
 * Node-only helpers for the core tests: hypercore@10 as a black-box reference (loaded through
 * createRequire), npm random-access-memory file sets we can read back byte for byte, and the
 * comparison of a core's five files.
 */
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RandomAccessStorage } from '../../src/storage/types.js'
import { promisify } from '../../src/storage/promises.js'
import { hex } from '../helpers/assert.js'

const require = createRequire(import.meta.url)
export const RefHypercore = require('hypercore') as any
export const RAM = require('random-access-memory') as new (buf?: Uint8Array) => RandomAccessStorage
export const refCrypto = require('hypercore-crypto') as { keyPair: (seed?: Uint8Array) => { publicKey: Uint8Array, secretKey: Uint8Array } }

export const FILES = ['oplog', 'tree', 'bitfield', 'data', 'header'] as const

/** A set of npm RAM files, named as the core asks for them, readable afterwards. */
export function ramSet (): { factory: (name: string) => RandomAccessStorage, files: Map<string, RandomAccessStorage>, reopen: (name: string) => RandomAccessStorage } {
  const files = new Map<string, RandomAccessStorage>()
  const factory = (name: string): RandomAccessStorage => {
    const f = new RAM()
    files.set(name, f)
    return f
  }
  // A closed RAM keeps its bytes; `clone()` gives a fresh handle on a copy of them.
  const reopen = (name: string): RandomAccessStorage => {
    const old = files.get(name) as unknown as { clone?: () => RandomAccessStorage } | undefined
    const f = old?.clone !== undefined ? old.clone() : new RAM()
    files.set(name, f)
    return f
  }
  return { factory, files, reopen }
}

export async function readAll (s: RandomAccessStorage | undefined): Promise<Uint8Array> {
  if (s === undefined) return new Uint8Array(0)
  const io = promisify(s)
  const { size } = await io.stat()
  return size === 0 ? new Uint8Array(0) : new Uint8Array(await io.read(0, size))
}

/** Hex of every file of a set, for byte comparison. */
export async function snapshotFiles (files: Map<string, RandomAccessStorage>): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of FILES) out[name] = hex(await readAll(files.get(name)))
  return out
}

export function tmpDir (t: { after: (fn: () => void) => void }, prefix = 'hcw-core-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
