/**
 * @module web-test/pages/webrtc.page
 * Browser side (Chromium and Firefox) of the WebRTC transport tests (served at /pages/webrtc.html). The spec relays
 * signals between pages (or between a page and Node): our signals go out through the
 * `sendSignal` binding the spec exposes, the remote ones come in through `testApi.signal`.
 * - `start({ initiator, trickle })` makes this page's peer;
 * - `write({ blocks, blockSize })` makes a core of deterministic blocks and replicates it over
 *   the peer's stream (returns the key);
 * - `read({ key, blocks, blockSize })` replicates a fresh core with that key over the stream,
 *   downloads everything and checks every block's bytes;
 * - `exchange(text)` moves plain bytes (no core) for the Node ↔ browser test;
 * - `halfClose(text)`: end our side, read the peer's until it ends, then both close cleanly;
 * - `floodUntilError()` / `receive(n)` / `destroy()`: a destroy in the middle of a transfer.
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

function concat (chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
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
    // The peer going away is expected in these tests: keep its error off the page's uncaught errors.
    peer.stream.on('error', () => {})
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

  /** Writes `text` and ends; resolves once the stream closed, with what the peer sent. */
  async halfClose (text: string): Promise<{ received: string, error: string | null }> {
    const stream = current().stream
    const chunks: Uint8Array[] = []
    let error: string | null = null
    stream.on('data', (c: unknown) => { chunks.push(c as Uint8Array) })
    stream.on('error', (e: Error) => { error = (e as { code?: string }).code ?? String(e) })
    const closed = new Promise<void>(resolve => stream.once('close', () => resolve()))
    stream.end(new TextEncoder().encode(text))
    await closed
    return { received: new TextDecoder().decode(concat(chunks)), error }
  },

  /** Writes 64 KiB chunks until the stream fails; resolves with the error's code. */
  async floodUntilError (): Promise<string> {
    const stream = current().stream
    const failed = new Promise<string>(resolve => stream.once('error', (e: Error) => resolve((e as { code?: string }).code ?? String(e))))
    const chunk = new Uint8Array(64 * 1024)
    const pump = (): void => {
      while (!stream.destroying) if (!stream.write(chunk)) { stream.once('drain', pump); return }
    }
    pump()
    return await failed
  },

  /** Resolves once `n` bytes arrived. */
  async receive (n: number): Promise<void> {
    const stream = current().stream
    let got = 0
    await new Promise<void>(resolve => {
      const ondata = (c: unknown): void => { got += (c as Uint8Array).byteLength; if (got >= n) { stream.off('data', ondata); resolve() } }
      stream.on('data', ondata)
    })
  },

  destroy (): void { current().destroy() },

  async close (): Promise<void> {
    for (const c of cores) await c.close()
    peer?.destroy()
  }
}

;(globalThis as unknown as { testApi: typeof testApi }).testApi = testApi
