/**
 * @module web-test/peers/swarm-ref-rtc
 * The Node end of the Chromium ↔ hypercore@10 WebRTC test: the real `hypercore@10` (a
 * black-box reference peer) replicating over our `createWebRtcPeer` running on
 * `@roamhq/wrtc`. hypercore@10's `replicate(isInitiator)` returns its raw Noise stream,
 * piped both ways into the data channel's byte stream. Signals are handed to `send` (the
 * spec relays them to the page) and the page's come back through `signal()`.
 */
import { createRequire } from 'node:module'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { SignalData } from '../../src/transport/types.js'

const require = createRequire(import.meta.url)
export const wrtc = require('@roamhq/wrtc') as unknown

export interface RefRtcPeer {
  signal (data: SignalData): void
  /** Errors of the replication or the channel seen before `destroy()`. */
  readonly errors: Error[]
  destroy (): void
}

export function refRtcPeer (core: any, initiator: boolean, send: (data: SignalData) => void): RefRtcPeer {
  const peer = createWebRtcPeer({ initiator, wrtc, iceServers: [] })
  const errors: Error[] = []
  let closing = false
  const raw = core.replicate(initiator, { keepAlive: false })
  for (const s of [raw, peer.stream]) s.on('error', (e: Error) => { if (!closing) errors.push(e) })
  raw.pipe(peer.stream).pipe(raw)
  peer.onSignal(send)
  return {
    signal: (d) => peer.signal(d),
    errors,
    destroy: () => {
      closing = true
      raw.destroy()
      peer.destroy()
    }
  }
}
