/**
 * @module test/replication/secret-stream-helpers
 * Browser-safe helpers for the secret-stream tests: connect two streams' raw sides (optionally
 * through a byte-tampering transform), collect what a stream emits, and wait for events with
 * a deadline so a broken case fails instead of hanging.
 */
import { Transform } from 'streamx'
import { SecretStream, type SecretStreamOptions } from '../../src/replication/secret-stream/index.js'
import { AssertionFailed } from '../helpers/assert.js'

/** Anything with the duplex surface both our and the reference secret streams offer. */
export interface AnyStream {
  rawStream: any
  on: (...args: any[]) => unknown
  once: (...args: any[]) => unknown
  write: (data: any) => boolean
  end: (...args: any[]) => unknown
  destroy: (err?: Error) => unknown
  destroyed: boolean
}

/** Records every error and the close of a stream, so tests can await and inspect them. */
export interface Watched<S> {
  stream: S
  errors: Error[]
  chunks: Uint8Array[]
  closed: Promise<void>
  ended: Promise<void>
  connected: Promise<void>
}

export function watch<S extends AnyStream> (stream: S, { collect = true } = {}): Watched<S> {
  const errors: Error[] = []
  const chunks: Uint8Array[] = []
  stream.on('error', (e: Error) => errors.push(e))
  if (collect) stream.on('data', (d: Uint8Array) => chunks.push(new Uint8Array(d)))
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
  const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()))
  const connected = new Promise<void>((resolve) => stream.once('connect', () => resolve()))
  return { stream, errors, chunks, closed, ended, connected }
}

/**
 * A transform that XORs `mask` into the byte at stream offset `at` (counted across chunks).
 * With `at < 0` it passes everything through unchanged.
 */
export function tamper (at: number, mask = 0x01): Transform {
  let seen = 0
  const t = new Transform({
    transform (chunk: unknown, cb: (err: Error | null, data: unknown) => void) {
      const c = chunk as Uint8Array
      if (at >= seen && at < seen + c.byteLength) {
        const copy = new Uint8Array(c)
        copy[at - seen]! ^= mask
        seen += c.byteLength
        return cb(null, copy)
      }
      seen += c.byteLength
      cb(null, c)
    }
  })
  // Destroys reach this transform through the pipes; the streams at both ends report them.
  t.on('error', () => {})
  return t
}

/** Pipes a.raw → (aToB) → b.raw and b.raw → (bToA) → a.raw. */
export function link (a: AnyStream, b: AnyStream, aToB: Transform | null = null, bToA: Transform | null = null): void {
  if (aToB !== null) a.rawStream.pipe(aToB).pipe(b.rawStream)
  else a.rawStream.pipe(b.rawStream)
  if (bToA !== null) b.rawStream.pipe(bToA).pipe(a.rawStream)
  else b.rawStream.pipe(a.rawStream)
}

/** Two of our streams, raw sides piped together. */
export function ourPair (opts: { a?: SecretStreamOptions, b?: SecretStreamOptions, aToB?: Transform | null, bToA?: Transform | null } = {}): { a: Watched<SecretStream>, b: Watched<SecretStream> } {
  const a = watch(new SecretStream(true, null, opts.a))
  const b = watch(new SecretStream(false, null, opts.b))
  link(a.stream, b.stream, opts.aToB ?? null, opts.bToA ?? null)
  return { a, b }
}

/** Resolves `p`, or rejects with a clear message after `ms`. */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([p, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function prng (seed: number): { u32: () => number, int: (n: number) => number, bytes: (n: number) => Uint8Array } {
  let s = seed >>> 0 || 1
  const u32 = (): number => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s
  }
  return {
    u32,
    int: (n: number) => u32() % n,
    bytes: (n: number) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 4) {
        const v = u32()
        out[i] = v; out[i + 1] = v >>> 8; out[i + 2] = v >>> 16; out[i + 3] = v >>> 24
      }
      return out
    }
  }
}

/** Concatenates arrays. */
export function concat (parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** Splits a byte stream into its uint24-framed payloads (frame headers dropped). */
export function splitFrames (bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let i = 0
  while (i + 3 <= bytes.byteLength) {
    const len = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16)
    out.push(bytes.subarray(i + 3, i + 3 + len))
    i += 3 + len
  }
  return out
}

/** Checks two lists of messages are byte-identical (fast for MiB-sized messages, unlike hex compares). */
export function sameMessages (actual: Uint8Array[], expected: Uint8Array[], what: string): void {
  if (actual.length !== expected.length) throw new AssertionFailed(`${what}: expected ${expected.length} messages, got ${actual.length}`)
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (a.byteLength !== e.byteLength) throw new AssertionFailed(`${what}: message ${i} has ${a.byteLength} bytes, expected ${e.byteLength}`)
    for (let j = 0; j < a.byteLength; j++) {
      if (a[j] !== e[j]) throw new AssertionFailed(`${what}: message ${i} differs at byte ${j}`)
    }
  }
}
