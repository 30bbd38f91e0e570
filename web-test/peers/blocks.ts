/**
 * @module web-test/peers/blocks
 * The deterministic test blocks of the replication specs, shared by the page (which writes
 * or checks them in Chromium) and by the Node side (hypercore@10), so both sides know what
 * every block's bytes must be. Browser-safe: no Node built-ins.
 */

/** Block `i` of `size` bytes: its index (big-endian u32, when it fits) then a pattern that varies with `i`. */
export function blockBytes (i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  let x = (i * 2654435761 + 7) >>> 0
  for (let j = 0; j < size; j++) {
    x = (x * 1664525 + 1013904223) >>> 0
    b[j] = x >>> 24
  }
  if (size >= 4) new DataView(b.buffer).setUint32(0, i)
  return b
}

/** The indices among `0..count` whose bytes differ from `blockBytes` (empty when all are right). */
export function mismatches (blocks: Array<Uint8Array | null>, size: number): number[] {
  const bad: number[] = []
  blocks.forEach((b, i) => {
    const want = blockBytes(i, size)
    if (b === null || b.byteLength !== size || !b.every((v, j) => v === want[j])) bad.push(i)
  })
  return bad
}
