/**
 * @module test/helpers/assert
 * A tiny assertion set that runs unchanged in Node and in the browser, so shared suites
 * (storage conformance, tree properties) can be bundled into a test page. Every check
 * compares values; none of them passes on "did not throw".
 */
import { HypercoreError, type ErrorCode } from '../../src/errors.js'

export class AssertionFailed extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'AssertionFailed'
  }
}

export function hex (bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

export function fromHex (s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function ok (value: unknown, message = 'expected a truthy value'): asserts value {
  if (!value) throw new AssertionFailed(message)
}

export function equal<T> (actual: T, expected: T, message = ''): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionFailed(`${message ? message + ': ' : ''}expected ${String(expected)}, got ${String(actual)}`)
  }
}

export function bytesEqual (actual: Uint8Array | null | undefined, expected: Uint8Array | string, message = ''): void {
  const want = typeof expected === 'string' ? expected : hex(expected)
  const got = actual == null ? String(actual) : hex(actual)
  if (got !== want) {
    throw new AssertionFailed(`${message ? message + ': ' : ''}bytes differ\n  expected ${want.slice(0, 200)}\n  got      ${got.slice(0, 200)}`)
  }
}

export function deepEqual (actual: unknown, expected: unknown, message = ''): void {
  const a = stable(actual)
  const b = stable(expected)
  if (a !== b) throw new AssertionFailed(`${message ? message + ': ' : ''}expected ${b.slice(0, 400)}, got ${a.slice(0, 400)}`)
}

/** Bytes compare by content whatever their class (a Node Buffer equals a Uint8Array of the same bytes). */
function stable (v: unknown): string {
  return JSON.stringify(bytesAsHex(v), (_k, x) => {
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x).sort(([p], [q]) => p < q ? -1 : p > q ? 1 : 0))
    }
    return x
  })
}

// (before JSON.stringify: it would call a Buffer's toJSON before any replacer sees it)
function bytesAsHex (v: unknown): unknown {
  if (v instanceof Uint8Array) return 'hex:' + hex(v)
  if (Array.isArray(v)) return v.map(bytesAsHex)
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsHex(x)]))
  }
  return v
}

/** Awaits `fn` and checks it rejects with a HypercoreError of the given code. Returns the error. */
export async function rejectsWithCode (fn: () => unknown, code: ErrorCode, message = ''): Promise<HypercoreError> {
  let err: unknown = null
  try {
    await fn()
  } catch (e) {
    err = e
  }
  if (err === null) throw new AssertionFailed(`${message ? message + ': ' : ''}expected a ${code} error, but it resolved`)
  if (!HypercoreError.is(err, code)) {
    const got = err instanceof Error ? `${err.name} ${(err as { code?: string }).code ?? ''} ${err.message}` : String(err)
    throw new AssertionFailed(`${message ? message + ': ' : ''}expected a ${code} error, got ${got}`)
  }
  return err
}

/** Synchronous version of rejectsWithCode. */
export function throwsWithCode (fn: () => unknown, code: ErrorCode, message = ''): HypercoreError {
  let err: unknown = null
  try {
    fn()
  } catch (e) {
    err = e
  }
  if (err === null) throw new AssertionFailed(`${message ? message + ': ' : ''}expected a ${code} error, but it returned`)
  if (!HypercoreError.is(err, code)) {
    const got = err instanceof Error ? `${err.name} ${(err as { code?: string }).code ?? ''} ${err.message}` : String(err)
    throw new AssertionFailed(`${message ? message + ': ' : ''}expected a ${code} error, got ${got}`)
  }
  return err
}

/**
 * A shared suite: named async cases. Node registers each with node:test; a browser
 * page runs them all and reports failures by name to Playwright.
 */
export interface SuiteCase<Ctx> {
  name: string
  run: (ctx: Ctx) => Promise<void>
}

export async function runSuiteInPage<Ctx> (cases: Array<SuiteCase<Ctx>>, ctx: () => Ctx | Promise<Ctx>): Promise<{ passed: string[], failed: Array<{ name: string, error: string }> }> {
  const passed: string[] = []
  const failed: Array<{ name: string, error: string }> = []
  for (const c of cases) {
    try {
      await c.run(await ctx())
      passed.push(c.name)
    } catch (e) {
      failed.push({ name: c.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
    }
  }
  return { passed, failed }
}
