/**
 * @module test/swarm/test-peer
 * The swarm tests' `createPeer`: the real transport (`createWebRtcPeer`, simple-peer over
 * `@roamhq/wrtc`, no STUN), counting the peers whose stream has not closed yet so tests can
 * check that the swarm released every one of them.
 */
import { createRequire } from 'node:module'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { WebRtcPeer, WebRtcPeerOptions } from '../../src/transport/types.js'

const require = createRequire(import.meta.url)
export const wrtc = require('@roamhq/wrtc') as unknown

/** Peers created whose stream is not closed yet (leak check). */
export const live = new Set<WebRtcPeer>()

export function createTestPeer (opts: WebRtcPeerOptions): WebRtcPeer {
  const peer = createWebRtcPeer({ ...opts, iceServers: opts.iceServers ?? [], wrtc: opts.wrtc ?? wrtc })
  live.add(peer)
  peer.stream.on('close', () => live.delete(peer))
  return peer
}
