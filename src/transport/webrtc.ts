/**
 * @module transport/webrtc
 * A WebRTC data channel as a replication byte stream (`createWebRtcPeer`). simple-peer does the
 * connection setup (offer/answer, trickle or not, ICE, the data channel); the bytes go through
 * our own streamx duplex on top of the channel, because a replication stream needs three things
 * simple-peer's own stream does not give:
 * - messages of at most 16 KiB (and never above the SCTP max message size): Chromium moves
 *   16 KiB messages fastest (measured in Chromium on loopback), and small writes are coalesced up to that size;
 * - a small send buffer: we send while `bufferedAmount` is under `HIGH_WATER` and then wait for
 *   'bufferedamountlow' (threshold `LOW_WATER`); a multi-MiB send buffer cost ~4x throughput
 *   in Chromium. simple-peer's stream has a fixed policy and a second buffer of its own;
 * - a half close: an empty message is our end-of-stream (FIN). We never send empty data
 *   messages, so the peer reads it as `end`; once both sides have sent and received FIN the
 *   channel is closed gracefully (queued messages are delivered before the close).
 * For that we reach past simple-peer's public API (private members, stable across simple-peer
 * 9.x): sends go straight to the `RTCDataChannel` at `_channel` once simple-peer says
 * 'connect'; received messages are taken from `_onChannelMessage`, which the `onmessage`
 * handler simple-peer installs synchronously when the channel appears calls for every message
 * (so none is lost before 'connect'). Its public 'data' event cannot be used: its
 * readable-stream drops empty chunks (our FIN) and copies each message into a Buffer first.
 * Failures: a simple-peer error (ICE failed, SDP rejected, channel error before open) destroys
 * the stream with WEBRTC_FAILED; the connection closing or the open channel failing before the
 * peer's FIN gives CONNECTION_CLOSED.
 * ICE servers default to none: simple-peer's default is a public STUN server (never used here).
 */
import SimplePeer from 'simple-peer'
import { Duplex } from 'streamx'
import { HypercoreError } from '../errors.js'
import type { SignalData, WebRtcPeer, WebRtcPeerOptions } from './types.js'

/** Largest message we send (bytes). */
export const MAX_MESSAGE = 16 * 1024
/** `bufferedAmountLowThreshold`: sending resumes once the channel's buffer falls to this. */
export const LOW_WATER = 64 * 1024
/** Sending pauses while the channel buffers more than this. */
export const HIGH_WATER = 128 * 1024
/** Poll interval for a lost 'bufferedamountlow' (see _waitLow). */
const POLL_MS = 20
/** How long a graceful close may wait for the channel's closing handshake. */
const CLOSE_TIMEOUT_MS = 3000
/**
 * A connected peer whose ICE state stays 'disconnected' this long counts as gone. A closed
 * Chromium page tells its peers nothing: ICE reports 'disconnected' after ~5 s and 'failed'
 * only after ~15 s (measured), while requests sent to it wait; brief 'disconnected' blips on
 * a live network recover within a second or two.
 */
const DISCONNECTED_GRACE_MS = 3000

/** The parts of an RTCDataChannel we use (the browser's, or `@roamhq/wrtc`'s). */
interface Channel {
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  readonly readyState: string
  send (data: Uint8Array): void
  close (): void
  addEventListener (type: 'bufferedamountlow', listener: () => void): void
  removeEventListener (type: 'bufferedamountlow', listener: () => void): void
}

/** simple-peer's private fields we rely on (see the module comment for why). */
interface PeerInternals {
  _channel: Channel | null
  _pc: { sctp?: { maxMessageSize?: number } | null } | null
  _iceCompleteTimer?: ReturnType<typeof setTimeout> | null
  /** Called by the channel's `onmessage` (binaryType 'arraybuffer'). */
  _onChannelMessage: (event: { data: unknown }) => void
}

/**
 * Starts a WebRTC connection. Feed the remote side's signals to `signal()`, send ours
 * (`onSignal`) to it through any signaling channel; `stream` can be written at once.
 */
export function createWebRtcPeer (opts: WebRtcPeerOptions): WebRtcPeer {
  return new WebRtcConnection(opts)
}

class WebRtcConnection implements WebRtcPeer {
  readonly stream: WebRtcStream
  private readonly _peer: SimplePeer.Instance
  private _listeners: Array<(data: SignalData) => void> = []
  /** Signals produced before anyone listened (the offer may come out before `onSignal`). */
  private _early: SignalData[] | null = []

  constructor (opts: WebRtcPeerOptions) {
    if (typeof opts?.initiator !== 'boolean') throw HypercoreError.BAD_ARGUMENT('createWebRtcPeer needs { initiator: boolean }')
    this._peer = new SimplePeer({
      initiator: opts.initiator,
      trickle: opts.trickle ?? true,
      config: { iceServers: opts.iceServers ?? [] },
      // simple-peer takes `wrtc` only when it is an object; browsers leave it undefined.
      wrtc: (opts.wrtc ?? undefined) as SimplePeer.Options['wrtc']
    })
    this.stream = new WebRtcStream(this._peer)
    this._peer.on('signal', (data: SignalData) => {
      if (this._early !== null) this._early.push(data)
      else for (const l of this._listeners) l(data)
    })
  }

  signal (data: SignalData): void {
    const peer = this._peer as SimplePeer.Instance & { destroyed: boolean, destroying: boolean }
    // Signals can arrive after we closed (a slow signaling server): nothing to do then.
    if (peer.destroyed || peer.destroying || this.stream.destroying) return
    try {
      peer.signal(data as SimplePeer.SignalData)
    } catch (err) {
      this.stream.destroy(HypercoreError.WEBRTC_FAILED('Bad signal: ' + String((err as Error)?.message ?? err), err))
    }
  }

  onSignal (listener: (data: SignalData) => void): void {
    this._listeners.push(listener)
    const early = this._early
    if (early === null) return
    this._early = null
    for (const data of early) listener(data)
  }

  destroy (err?: Error): void {
    this.stream.destroy(err)
  }
}

/** The byte duplex over one data channel. */
class WebRtcStream extends Duplex {
  private readonly _peer: SimplePeer.Instance
  private _channel: Channel | null = null
  private _maxMessage = MAX_MESSAGE
  private _openCallback: ((err: Error | null) => void) | null = null
  /** Resumes a send paused on a full channel buffer. */
  private _onLow: (() => void) | null = null
  private _poll: ReturnType<typeof setInterval> | undefined = undefined
  private _finSent = false
  private _finReceived = false
  private _peerClosed = false
  private _failure: Error | null = null
  private _disconnectedTimer: ReturnType<typeof setTimeout> | null = null

  constructor (peer: SimplePeer.Instance) {
    super()
    this._peer = peer
    peer.on('connect', () => { this._connected() })
    ;(peer as unknown as PeerInternals)._onChannelMessage = (event: { data: unknown }) => { this._message(event.data) }
    peer.on('error', (err: Error & { code?: string }) => {
      const code = err.code ?? 'ERR_UNKNOWN'
      // An open channel failing is the peer going away (Chromium reports the remote's close
      // as a channel error: "User-Initiated Abort"); anything else is WebRTC not working.
      this._failure ??= code === 'ERR_DATA_CHANNEL' && this._channel !== null
        ? HypercoreError.CONNECTION_CLOSED(`WebRTC data channel closed (${err.message})`, err)
        : HypercoreError.WEBRTC_FAILED(`WebRTC failed (${code}): ${err.message}`, err)
    })
    peer.on('iceStateChange', (state: string) => {
      if (state === 'disconnected') {
        this._disconnectedTimer ??= setTimeout(() => {
          this._failure ??= HypercoreError.CONNECTION_CLOSED(`WebRTC peer unreachable (ICE disconnected for ${DISCONNECTED_GRACE_MS} ms)`)
          this._peer.destroy()
        }, DISCONNECTED_GRACE_MS)
      } else {
        this._clearDisconnected()
      }
    })
    peer.on('close', () => {
      this._clearDisconnected()
      // simple-peer leaves its 5 s "ICE gathering done" timer running after destroy, which
      // keeps a Node process alive that long for nothing.
      clearTimeout((peer as unknown as PeerInternals)._iceCompleteTimer ?? undefined)
      this._closed()
    })
  }

  private _clearDisconnected (): void {
    if (this._disconnectedTimer !== null) clearTimeout(this._disconnectedTimer)
    this._disconnectedTimer = null
  }

  override _open (cb: (err: Error | null) => void): void {
    if (this._channel !== null) cb(null)
    else this._openCallback = cb
  }

  override _read (cb: (err: Error | null) => void): void {
    // A data channel cannot be paused from JS: messages are pushed as they arrive.
    cb(null)
  }

  override _writev (batch: unknown[], cb: (err: Error | null) => void): void {
    this._send(toMessages(batch as Uint8Array[], this._maxMessage), 0, cb)
  }

  override _final (cb: (err: Error | null) => void): void {
    // Ordered channel: the empty message arrives after every byte written before it.
    this._send([new Uint8Array(0)], 0, err => {
      if (err === null) this._finSent = true
      cb(err)
    })
  }

  override _predestroy (): void {
    const open = this._openCallback
    this._openCallback = null
    open?.(this._failure ?? HypercoreError.CONNECTION_CLOSED('Destroyed before the WebRTC connection opened'))
    this._stopWaiting()
  }

  override _destroy (cb: (err: Error | null) => void): void {
    const channel = this._channel
    this._stopWaiting()
    if (this._peerClosed || channel === null || !this._finSent || !this._finReceived || channel.readyState !== 'open') {
      this._peer.destroy()
      cb(null)
      return
    }
    // Both halves ended: close the channel gracefully (it sends what it still buffers first);
    // simple-peer destroys itself when the channel reports closed.
    const timer = setTimeout(() => { this._peer.destroy() }, CLOSE_TIMEOUT_MS)
    this._peer.once('close', () => { clearTimeout(timer) })
    try {
      channel.close()
    } catch {
      this._peer.destroy()
    }
    cb(null)
  }

  private _connected (): void {
    const channel = (this._peer as unknown as PeerInternals)._channel
    if (channel === null || this.destroying) return
    this._channel = channel
    channel.bufferedAmountLowThreshold = LOW_WATER
    // The SCTP transport announces the largest message the remote accepts (Chromium: 256 KiB).
    const max = (this._peer as unknown as PeerInternals)._pc?.sctp?.maxMessageSize ?? 0
    if (max > 0) this._maxMessage = Math.min(MAX_MESSAGE, max)
    const open = this._openCallback
    this._openCallback = null
    open?.(null)
  }

  private _message (data: unknown): void {
    if (this.destroying || this._finReceived) return
    if (!(data instanceof ArrayBuffer)) {
      this.destroy(HypercoreError.WEBRTC_FAILED('Unexpected non-binary data channel message'))
      return
    }
    if (data.byteLength === 0) {
      this._finReceived = true
      this.push(null)
      return
    }
    this.push(new Uint8Array(data))
  }

  private _closed (): void {
    this._peerClosed = true
    // A send paused on the buffer is failed by _predestroy (destroy below).
    if (this.destroying) return
    if (this._failure !== null) this.destroy(this._failure)
    else if (!this._finReceived) this.destroy(HypercoreError.CONNECTION_CLOSED('WebRTC connection closed by the peer'))
    else if (!this._finSent) this.destroy(HypercoreError.CONNECTION_CLOSED('WebRTC connection closed before our end was sent'))
  }

  /** Sends `messages[i..]`, pausing on a full channel buffer; `cb` once all are handed over. */
  private _send (messages: Uint8Array[], i: number, cb: (err: Error | null) => void): void {
    const channel = this._channel
    if (channel === null || this.destroying) return cb(this._failure ?? HypercoreError.CONNECTION_CLOSED())
    try {
      while (i < messages.length) {
        if (channel.bufferedAmount > HIGH_WATER) {
          this._waitLow(channel, () => this._send(messages, i, cb))
          return
        }
        channel.send(messages[i++])
      }
    } catch (err) {
      // Sending on a channel the peer just closed throws before the close event arrives.
      this._failure ??= channel.readyState === 'open'
        ? HypercoreError.WEBRTC_FAILED('Data channel send failed', err)
        : HypercoreError.CONNECTION_CLOSED('WebRTC data channel closed', err)
      return cb(this._failure)
    }
    cb(null)
  }

  private _waitLow (channel: Channel, resume: () => void): void {
    const onLow = (): void => {
      this._stopWaiting()
      resume()
    }
    this._onLow = onLow
    channel.addEventListener('bufferedamountlow', onLow)
    // Safety net: @roamhq/wrtc updates bufferedAmount from its network thread and now and then
    // drops the event (measured: a stall with bufferedAmount 0 after ~50 waits). A slow poll
    // while we wait costs nothing in browsers, where the event comes first.
    this._poll = setInterval(() => { if (channel.bufferedAmount <= LOW_WATER) onLow() }, POLL_MS)
  }

  private _stopWaiting (): void {
    const onLow = this._onLow
    if (onLow === null) return
    this._onLow = null
    clearInterval(this._poll)
    this._channel?.removeEventListener('bufferedamountlow', onLow)
    // A send paused on the buffer must end too: its callback reports the failure.
    if (this.destroying) onLow()
  }
}

/**
 * Cuts a batch of writes into messages of at most `max` bytes: big writes are sliced (views,
 * no copy), runs of small writes are coalesced (one copy) so each message carries up to `max`.
 */
export function toMessages (batch: Uint8Array[], max: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let parts: Uint8Array[] = []
  let partsLength = 0
  const flush = (): void => {
    if (partsLength === 0) return
    if (parts.length === 1) {
      out.push(parts[0])
    } else {
      const msg = new Uint8Array(partsLength)
      let at = 0
      for (const p of parts) { msg.set(p, at); at += p.byteLength }
      out.push(msg)
    }
    parts = []
    partsLength = 0
  }
  for (const chunk of batch) {
    let off = 0
    while (off < chunk.byteLength) {
      if (partsLength === 0 && chunk.byteLength - off >= max) {
        out.push(chunk.subarray(off, off + max))
        off += max
        continue
      }
      const take = Math.min(max - partsLength, chunk.byteLength - off)
      parts.push(chunk.subarray(off, off + take))
      partsLength += take
      off += take
      if (partsLength === max) flush()
    }
  }
  flush()
  return out
}
