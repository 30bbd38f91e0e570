/**
 * @module bench/pages/webrtc.page
 * One side of the WebRTC benchmark (bench/webrtc.bench.ts drives two of these pages and relays
 * their signals through `sendSignal`):
 * - ours: a core replicated over `createWebRtcPeer`'s stream (`oursStart`, `oursWrite`,
 *   `oursRead`: the reader times replicate → download done, then checks every block);
 * - raw: a bare `RTCPeerConnection` + `RTCDataChannel` moving the same number of bytes in
 *   16 KiB messages with the same backpressure as the transport (send while bufferedAmount
 *   ≤ HIGH_WATER, then wait for 'bufferedamountlow' at LOW_WATER): the ceiling we compare to;
 * - `oursInPage`: both cores in this page over an in-memory pipe (our stack's CPU ceiling).
 * Times are `Date.now()` so the driver can subtract across the two pages.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { createWebRtcPeer, HIGH_WATER, LOW_WATER, MAX_MESSAGE } from '../../src/transport/webrtc.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'

declare const sendSignal: (data: SignalData) => Promise<void>

function blockBytes (i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let j = 0; j < size; j += 4096) b[j] = (i + j) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

const hex = (b: Uint8Array): string => Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
const unhex = (s: string): Uint8Array => new Uint8Array(s.match(/../g)!.map(x => parseInt(x, 16)))

// --- ours ---------------------------------------------------------------------------------

let peer: WebRtcPeer | null = null
let core: Hypercore | null = null

async function oursStart ({ initiator }: { initiator: boolean }): Promise<void> {
  peer = createWebRtcPeer({ initiator })
  peer.onSignal(d => { void sendSignal(d) })
}

async function oursWrite ({ blocks, blockSize }: { blocks: number, blockSize: number }): Promise<string> {
  core = new Hypercore(() => new MemoryStorage())
  await core.ready()
  const batch = Math.max(1, Math.floor((1 << 20) / blockSize))
  for (let i = 0; i < blocks; i += batch) {
    await core.append(Array.from({ length: Math.min(batch, blocks - i) }, (_, k) => blockBytes(i + k, blockSize)))
  }
  core.replicate(true, { stream: peer!.stream as never, keepAlive: false })
  return hex(core.key!)
}

async function oursRead ({ key, blocks, blockSize }: { key: string, blocks: number, blockSize: number }): Promise<{ start: number, end: number, verified: number }> {
  core = new Hypercore(() => new MemoryStorage(), unhex(key))
  await core.ready()
  const start = Date.now()
  core.replicate(false, { stream: peer!.stream as never, keepAlive: false })
  await core.update({ wait: true })
  await core.download({ start: 0, end: blocks }).done()
  const end = Date.now()
  let verified = 0
  for (let i = 0; i < blocks; i++) {
    const got = await core.get(i) as Uint8Array
    const want = blockBytes(i, blockSize)
    if (got.byteLength !== want.byteLength || got.some((b, j) => b !== want[j])) throw new Error(`block ${i} differs`)
    verified++
  }
  return { start, end, verified }
}

/** Both cores in this page over an in-memory pipe: MB/s of the download (no WebRTC). */
async function oursInPage ({ blocks, blockSize }: { blocks: number, blockSize: number }): Promise<number> {
  const w = new Hypercore(() => new MemoryStorage())
  await w.ready()
  const batch = Math.max(1, Math.floor((1 << 20) / blockSize))
  for (let i = 0; i < blocks; i += batch) await w.append(Array.from({ length: Math.min(batch, blocks - i) }, (_, k) => blockBytes(i + k, blockSize)))
  const r = new Hypercore(() => new MemoryStorage(), w.key!)
  await r.ready()
  const t0 = performance.now()
  const a = w.replicate(true, { keepAlive: false }) as any
  const b = r.replicate(false, { keepAlive: false }) as any
  a.pipe(b).pipe(a)
  await r.update({ wait: true })
  await r.download({ start: 0, end: blocks }).done()
  return blocks * blockSize / 1e6 / ((performance.now() - t0) / 1000)
}

// --- raw RTCDataChannel -------------------------------------------------------------------

let pc: RTCPeerConnection | null = null
let channel: RTCDataChannel | null = null
let opened: Promise<void> = Promise.resolve()
let onBytes: (n: number) => void = () => {}
let chain: Promise<void> = Promise.resolve()

function setupChannel (ch: RTCDataChannel): void {
  channel = ch
  ch.binaryType = 'arraybuffer'
  ch.bufferedAmountLowThreshold = LOW_WATER
  // Set synchronously (messages that arrive before a handler is set are lost).
  ch.onmessage = e => { onBytes((e.data as ArrayBuffer).byteLength) }
  opened = new Promise(resolve => { if (ch.readyState === 'open') resolve(); else ch.onopen = () => resolve() })
}

async function rawStart ({ initiator }: { initiator: boolean }): Promise<void> {
  pc = new RTCPeerConnection({ iceServers: [] })
  pc.onicecandidate = e => { if (e.candidate !== null) void sendSignal({ type: 'candidate', candidate: e.candidate.toJSON() }) }
  if (initiator) {
    setupChannel(pc.createDataChannel('raw'))
    const offer = await pc.createOffer()
    await pc.setLocalDescription(offer)
    void sendSignal({ type: 'offer', sdp: offer.sdp })
  } else {
    pc.ondatachannel = e => { setupChannel(e.channel) }
  }
}

function rawSignal (d: SignalData): void {
  // Serialised: a candidate must not be added before the description it belongs to is set.
  chain = chain.then(async () => {
    if (d.type === 'offer') {
      await pc!.setRemoteDescription({ type: 'offer', sdp: d.sdp })
      const answer = await pc!.createAnswer()
      await pc!.setLocalDescription(answer)
      void sendSignal({ type: 'answer', sdp: answer.sdp })
    } else if (d.type === 'answer') {
      await pc!.setRemoteDescription({ type: 'answer', sdp: d.sdp })
    } else if (d.type === 'candidate') {
      await pc!.addIceCandidate(d.candidate as RTCIceCandidateInit)
    }
  })
}

/** Resolves with Date.now() once `total` bytes arrived. */
async function rawReceive ({ total }: { total: number }): Promise<number> {
  let got = 0
  return await new Promise(resolve => {
    onBytes = n => { got += n; if (got >= total) resolve(Date.now()) }
  })
}

/** Starts sending `total` bytes once the channel is open; resolves with the start time. */
async function rawSend ({ total }: { total: number }): Promise<number> {
  await opened
  const ch = channel!
  const msg = new Uint8Array(MAX_MESSAGE)
  const start = Date.now()
  let sent = 0
  const pump = (): void => {
    while (sent < total) {
      if (ch.bufferedAmount > HIGH_WATER) { ch.onbufferedamountlow = pump; return }
      const n = Math.min(MAX_MESSAGE, total - sent)
      ch.send(n === MAX_MESSAGE ? msg : msg.subarray(0, n))
      sent += n
    }
  }
  pump()
  return start
}

async function close (): Promise<void> {
  await core?.close()
  peer?.destroy()
  pc?.close()
}

;(globalThis as unknown as { testApi: unknown }).testApi = {
  oursStart, oursWrite, oursRead, rawStart, rawSignal, rawReceive, rawSend, close, oursInPage,
  oursSignal: (d: SignalData) => { peer!.signal(d) }
}
