/**
 * @module transport/types
 * What a transport gives the layers above it: a byte duplex (a streamx `Duplex` of
 * `Uint8Array`s, which satisfies the secret stream's `RawStream`) carrying one replication
 * connection. The swarm wraps it in a `SecretStream`; a user may pass it to
 * `core.replicate(isInitiator, { stream })` directly.
 */
import type { Duplex } from 'streamx'

/** A connected byte duplex (WebRTC data channel, WebSocket, …). */
export type ByteStream = Duplex

/**
 * Opaque WebRTC signaling payload (an SDP offer/answer or an ICE candidate, simple-peer's
 * `signal` data). JSON-serialisable; signaling clients carry it without looking inside.
 */
export type SignalData = { type?: string, sdp?: string, candidate?: unknown, [k: string]: unknown }

/** ICE servers (STUN/TURN) for a WebRTC connection; none by default (loopback, LAN). */
export interface IceServer { urls: string | string[], username?: string, credential?: string }

export interface WebRtcPeerOptions {
  /** This side makes the offer. */
  initiator: boolean
  /**
   * Trickle ICE (several signals per side). False waits for ICE gathering to finish and
   * emits one complete offer/answer: what the WebTorrent tracker protocol needs.
   */
  trickle?: boolean
  iceServers?: IceServer[]
  /** A WebRTC implementation for Node (`@roamhq/wrtc`); browsers use their own. */
  wrtc?: unknown
}

/**
 * One WebRTC connection being set up: signals we produce come out through `onSignal`,
 * the remote side's are fed to `signal()`. `stream` is usable at once (writes are held
 * until the data channel opens) and is destroyed with a typed error when ICE fails.
 */
export interface WebRtcPeer {
  readonly stream: ByteStream
  signal (data: SignalData): void
  onSignal (listener: (data: SignalData) => void): void
  destroy (err?: Error): void
}
