/**
 * @module test/swarm/simple-peer-adapter
 * A test-only `createPeer` for the swarm: simple-peer over `@roamhq/wrtc`, its Node stream
 * wrapped in a streamx duplex (writes split into 16 KiB messages, the data channel's limit
 * being 256 KiB). Real WebRTC, no STUN (`iceServers: []`, loopback host candidates).
 * It also counts live peers so tests can check that the swarm released all of them.
 */
import { createRequire } from 'node:module'
import { Duplex } from 'streamx'
import type { SignalData, WebRtcPeer, WebRtcPeerOptions } from '../../src/transport/types.js'

const require = createRequire(import.meta.url)
const SimplePeer = require('simple-peer') as any
export const wrtc = require('@roamhq/wrtc') as unknown

const CHUNK = 16 * 1024

/** Peers created and not yet destroyed (leak check). */
export const live = new Set<WebRtcPeer>()

export function createTestPeer (opts: WebRtcPeerOptions): WebRtcPeer {
  const sp = new SimplePeer({ initiator: opts.initiator, trickle: opts.trickle ?? true, config: { iceServers: opts.iceServers ?? [] }, wrtc: opts.wrtc ?? wrtc })
  const listeners: Array<(d: SignalData) => void> = []
  const early: SignalData[] = []
  sp.on('signal', (d: SignalData) => { if (listeners.length === 0) early.push(d); else for (const l of listeners) l(d) })
  const stream = new Duplex({
    write (data: unknown, cb: (err: Error | null) => void) {
      const bytes = data as Uint8Array
      if (sp.destroyed) return cb(new Error('peer destroyed'))
      for (let off = 0; off < bytes.byteLength; off += CHUNK) {
        const last = off + CHUNK >= bytes.byteLength
        const part = Buffer.from(bytes.buffer, bytes.byteOffset + off, Math.min(CHUNK, bytes.byteLength - off))
        if (last) sp.write(part, (err: Error | null | undefined) => cb(err ?? null))
        else sp.write(part)
      }
    },
    read (cb: (err: Error | null) => void) { sp.resume(); cb(null) },
    final (cb: (err: Error | null) => void) { sp.end(); cb(null) },
    destroy (cb: (err: Error | null) => void) { sp.destroy(); cb(null) }
  })
  sp.on('data', (d: Uint8Array) => { if (!stream.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))) sp.pause() })
  sp.on('end', () => stream.push(null))
  sp.on('error', (err: Error) => stream.destroy(err))
  // simple-peer never clears its 5 s ICE-complete timer on destroy: it would hold the process open.
  const release = (): void => { clearTimeout(sp._iceCompleteTimer); sp._iceCompleteTimer = null; live.delete(peer) }
  sp.on('close', () => { release(); stream.destroy() })
  const peer: WebRtcPeer = {
    stream,
    signal (d) { if (!sp.destroyed) sp.signal(d) },
    onSignal (l) { listeners.push(l); for (const d of early.splice(0)) l(d) },
    destroy (err) { if (!sp.destroyed) sp.destroy(err); release() }
  }
  live.add(peer)
  return peer
}
