/**
 * @module core/buffers
 * The byte type handed to users: a `Buffer` in Node, where hypercore@10 and the libraries
 * built on it (hyperbee, corestore, hyperdrive) return Buffers and their users call
 * `.toString()` or `.equals()` on them, and a plain `Uint8Array` in the browser. b4a makes
 * the choice per platform; the view shares memory, so nothing is copied.
 */
import b4a from 'b4a'

/** `Buffer.prototype` in Node, `Uint8Array.prototype` in the browser. */
const BYTES_PROTOTYPE: object = Object.getPrototypeOf(b4a.alloc(0))

export function asBuffer (bytes: Uint8Array): Uint8Array
export function asBuffer (bytes: Uint8Array | null): Uint8Array | null
export function asBuffer (bytes: Uint8Array | null): Uint8Array | null {
  if (bytes === null || Object.getPrototypeOf(bytes) === BYTES_PROTOTYPE) return bytes
  return b4a.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
