/**
 * @module web-test/pages/tracker.page
 * Chromium side of web-test/tracker.spec.ts (served at /pages/tracker.html): one
 * `TrackerSignaling` with a stand-in swarm whose connect() makes a plain, non-trickle
 * `RTCPeerConnection` (the page bundle has no polyfills, so no simple-peer here). The spec
 * drives it through `testApi`: join a tracker topic, wait for a data channel, move bytes.
 */
import { Duplex } from 'streamx'
import { TrackerSignaling } from '../../src/signaling/tracker.js'
import type { ConnectRequest, SignalingContext } from '../../src/signaling/types.js'
import type { SignalData, WebRtcPeer } from '../../src/transport/types.js'

const CHUNK = 16 * 1024

interface Connected { req: ConnectRequest, channel: RTCDataChannel, received: Uint8Array[] }

let client: TrackerSignaling | null = null
const requests: ConnectRequest[] = []
const errors: string[] = []
let onConnected: ((c: Connected) => void) | null = null
const connected: Connected[] = []

/** A non-trickle WebRTC peer: one complete offer or answer once ICE gathering is done. */
function rtcPeer (req: ConnectRequest): WebRtcPeer {
  const pc = new RTCPeerConnection({ iceServers: [] })
  const stream = new Duplex()
  stream.on('error', () => {})
  const listeners: Array<(d: SignalData) => void> = []
  const destroy = (): void => {
    pc.close()
    stream.destroy()
  }
  const emitLocal = async (): Promise<void> => {
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>(resolve => pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve() }))
    }
    const d = pc.localDescription!
    for (const l of listeners) l({ type: d.type, sdp: d.sdp })
  }
  const use = (channel: RTCDataChannel): void => {
    const c: Connected = { req, channel, received: [] }
    channel.binaryType = 'arraybuffer'
    // Set synchronously: Chromium delivers messages that arrive before a handler is set to nobody.
    channel.onmessage = (ev: MessageEvent) => { c.received.push(new Uint8Array(ev.data as ArrayBuffer)) }
    channel.onopen = () => {
      connected.push(c)
      onConnected?.(c)
    }
    channel.onclose = destroy
  }
  if (req.initiator) {
    use(pc.createDataChannel('data'))
    void pc.createOffer().then(o => pc.setLocalDescription(o)).then(emitLocal).catch(destroy)
  } else {
    pc.ondatachannel = (ev) => use(ev.channel)
  }
  requests.push(req)
  return {
    stream,
    onSignal: (l) => { listeners.push(l) },
    signal: (data) => {
      const desc = { type: data.type as RTCSdpType, sdp: data.sdp as string }
      const p = pc.setRemoteDescription(desc)
      if (!req.initiator) void p.then(() => pc.createAnswer()).then(a => pc.setLocalDescription(a)).then(emitLocal).catch(destroy)
      else void p.catch(destroy)
    },
    destroy
  }
}

function join (url: string, self: string, topic: string, numOffers: number): void {
  const ctx: SignalingContext = {
    self,
    sign: () => { throw new Error('the tracker client signs nothing') },
    wants: (peerId) => connected.length === 0 && (peerId === null || !requests.some(r => r.peerId === peerId)),
    connect: rtcPeer
  }
  client = new TrackerSignaling({ announce: [url], numOffers })
  client.on('error', (err: Error) => { errors.push(err.message) })
  client.start(ctx)
  client.join(topic)
}

/** The first open data channel: who asked for it and how. */
async function waitConnected (): Promise<{ req: ConnectRequest }> {
  const c = connected[0] ?? await new Promise<Connected>(resolve => { onConnected = resolve })
  return { req: c.req }
}

/** Sends `n` bytes (a pattern seeded by `seed`) and returns the SHA-256 of the first `n` received. */
async function exchange (n: number, seed: number): Promise<{ sentHash: string, receivedHash: string }> {
  const c = connected[0]!
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff
  for (let i = 0; i < n; i += CHUNK) {
    if (c.channel.bufferedAmount > 256 * 1024) {
      c.channel.bufferedAmountLowThreshold = 64 * 1024
      await new Promise<void>(resolve => c.channel.addEventListener('bufferedamountlow', () => resolve(), { once: true }))
    }
    c.channel.send(out.subarray(i, Math.min(n, i + CHUNK)))
  }
  while (c.received.reduce((s, b) => s + b.byteLength, 0) < n) {
    await new Promise<void>(resolve => c.channel.addEventListener('message', () => resolve(), { once: true }))
  }
  const got = new Uint8Array(n)
  let at = 0
  for (const b of c.received) {
    got.set(b.subarray(0, Math.min(b.byteLength, n - at)), at)
    at += b.byteLength
    if (at >= n) break
  }
  return { sentHash: await sha256(out), receivedHash: await sha256(got) }
}

async function sha256 (bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return [...d].map(b => b.toString(16).padStart(2, '0')).join('')
}

async function close (): Promise<void> {
  await client?.close()
}

(globalThis as unknown as { testApi: unknown }).testApi = {
  join, waitConnected, exchange, close, errors: () => errors.slice(), requests: () => requests.slice()
}
