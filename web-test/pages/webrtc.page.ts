/**
 * @module web-test/pages/webrtc.page
 * Chromium side of the WebRTC transport tests (served at /pages/webrtc.html). The spec relays
 * signals between pages (or between a page and Node): our signals go out through the
 * `sendSignal` binding the spec exposes, the remote ones come in through `testApi.signal`.
 * - `start({ initiator, trickle })` makes this page's peer;
 * - `write({ blocks, blockSize })` makes a core of deterministic blocks and replicates it over
 *   the peer's stream (returns the key);
 * - `read({ key, blocks, blockSize })` replicates a fresh core with that key over the stream,
 *   downloads everything and checks every block's bytes;
 * - `echo()` / `exchange(text)` move plain bytes (no core) for the Node ↔ Chromium test.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'
import { hex as toHex, fromHex } from '../../test/helpers/assert.js'

declare const sendSignal: (data: SignalData) => Promise<void>

/** Block `i` of a test core: its index then a pattern (webrtc.spec.ts has the same for Node). */
function blockBytes (i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let j = 0; j < size; j++) b[j] = (i * 131 + j * 7) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

let peer: WebRtcPeer | null = null
const signals: { sent: number } = { sent: 0 }
const cores: Hypercore[] = []

function current (): WebRtcPeer {
  if (peer === null) throw new Error('start() first')
  return peer
}

const testApi = {
  start ({ initiator, trickle = true }: { initiator: boolean, trickle?: boolean }): void {
    peer = createWebRtcPeer({ initiator, trickle })
    peer.onSignal(data => { signals.sent++; void sendSignal(data) })
  },

  signal (data: SignalData): void { current().signal(data) },

  signalsSent (): number { return signals.sent },

  async write ({ blocks, blockSize }: { blocks: number, blockSize: number }): Promise<string> {
    const core = new Hypercore(() => new MemoryStorage())
    await core.ready()
    for (let i = 0; i < blocks; i += 64) {
      await core.append(Array.from({ length: Math.min(64, blocks - i) }, (_, k) => blockBytes(i + k, blockSize)))
    }
    cores.push(core)
    core.replicate(true, { stream: current().stream as never, keepAlive: false })
    return toHex(core.key!)
  },

  async read ({ key, blocks, blockSize }: { key: string, blocks: number, blockSize: number }): Promise<{ length: number, verified: number, ms: number }> {
    const core = new Hypercore(() => new MemoryStorage(), fromHex(key))
    await core.ready()
    cores.push(core)
    const t0 = performance.now()
    core.replicate(false, { stream: current().stream as never, keepAlive: false })
    await core.update({ wait: true })
    await core.download({ start: 0, end: blocks }).done()
    const ms = performance.now() - t0
    let verified = 0
    for (let i = 0; i < blocks; i++) {
      const got = await core.get(i) as Uint8Array
      const want = blockBytes(i, blockSize)
      if (got.byteLength !== want.byteLength || got.some((b, j) => b !== want[j])) throw new Error(`block ${i} differs`)
      verified++
    }
    return { length: core.length, verified, ms }
  },

  /** Sends `text`, resolves with the first chunk the other side sends. */
  async exchange (text: string): Promise<string> {
    const stream = current().stream
    const got = new Promise<string>(resolve => stream.once('data', (c: unknown) => resolve(new TextDecoder().decode(c as Uint8Array))))
    stream.write(new TextEncoder().encode(text))
    return await got
  },

  async close (): Promise<void> {
    for (const c of cores) await c.close()
    peer?.destroy()
  }
}

;(globalThis as unknown as { testApi: typeof testApi }).testApi = testApi
