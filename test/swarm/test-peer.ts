/**
 * @module test/swarm/test-peer
 * The swarm tests' `createPeer`: the real transport (`createWebRtcPeer`, simple-peer over
 * `@roamhq/wrtc`, no STUN), counting the peers whose stream has not closed yet so tests can
 * check that the swarm released every one of them.
 */
import { createRequire } from 'node:module'
import { after } from 'node:test'
import { createWebRtcPeer } from '../../src/transport/webrtc.js'
import type { WebRtcPeer, WebRtcPeerOptions } from '../../src/transport/types.js'

const require = createRequire(import.meta.url)
export const wrtc = require('@roamhq/wrtc') as unknown

/** Peers created whose stream is not closed yet (leak check). */
export const live = new Set<WebRtcPeer>()

/** Native peers this test file made. */
let made = 0

export function createTestPeer (opts: WebRtcPeerOptions): WebRtcPeer {
  const peer = createWebRtcPeer({ ...opts, iceServers: opts.iceServers ?? [], wrtc: opts.wrtc ?? wrtc })
  made++
  live.add(peer)
  peer.stream.on('close', () => live.delete(peer))
  return peer
}

/**
 * @roamhq/wrtc finishes tearing a peer connection down on threads of its own after `close()`,
 * and a process that exits within about a second of that sometimes dies in its native code
 * (SIGSEGV or SIGABRT after every test of the file passed: 1 run in 12 of
 * test/swarm/identity.test.ts; none in 20 with this wait, still 2 in 24 with 600 ms). No
 * JavaScript event tells when that work is done, so a file that made native peers waits
 * before its process ends.
 */
const NATIVE_TEARDOWN_MS = 2000
after(async () => {
  if (made > 0) await new Promise(resolve => setTimeout(resolve, NATIVE_TEARDOWN_MS))
})
