/**
 * @module replication/mux/remote-table
 * The channels the remote has opened, by the remote's id (§5.5: a channel message carries the
 * sender's id), and the ones no local channel has taken yet, per key, with the budget that
 * bounds what a peer can make us hold before we agree to talk to it (MuxOptions).
 */
import { HypercoreError } from '../../errors.js'
import type { OpenBody } from '../../wire/mux-frames.js'
import type { Channel } from './channel.js'

/** Bookkeeping cost charged per held remote open or buffered message, on top of its bytes. */
const ENTRY_OVERHEAD = 64

/** A channel the remote opened: paired with one of ours, or waiting for one. */
export interface RemoteChannel {
  remoteId: number
  key: string
  open: OpenBody
  channel: Channel | null
  /** A local channel that took this open and pairs with it a microtask later. */
  reserved: Channel | null
  /** Messages that arrived before pairing (copied out of their frames). */
  pending: Array<{ type: number, payload: Uint8Array }>
  /** Bytes charged to the unpaired budget while waiting. */
  cost: number
}

export class RemoteTable {
  readonly byId = new Map<number, RemoteChannel>()
  /** Remote opens no local channel has taken yet, FIFO per key. */
  private readonly _unpaired = new Map<string, RemoteChannel[]>()
  unpairedCount = 0
  unpairedBytes = 0
  private readonly _maxCount: number
  private readonly _maxBytes: number

  constructor (maxCount: number, maxBytes: number) {
    this._maxCount = maxCount
    this._maxBytes = maxBytes
  }

  get (remoteId: number): RemoteChannel | undefined {
    return this.byId.get(remoteId)
  }

  /** Records a remote open. Its id must not be live: ids are reused only after close. */
  add (open: OpenBody, key: string): RemoteChannel {
    if (this.byId.has(open.localId)) throw HypercoreError.PROTOCOL_ERROR(`remote opened channel id ${open.localId} twice`)
    const remote: RemoteChannel = { remoteId: open.localId, key, open, channel: null, reserved: null, pending: [], cost: 0 }
    this.byId.set(remote.remoteId, remote)
    return remote
  }

  /** Queues an open that no local channel waits for, charging it to the budget. */
  queueUnpaired (remote: RemoteChannel): void {
    if (this.unpairedCount >= this._maxCount) {
      throw HypercoreError.PROTOCOL_ERROR(`more than ${this._maxCount} remote channels waiting to pair`)
    }
    this.unpairedCount++
    const list = this._unpaired.get(remote.key)
    if (list === undefined) this._unpaired.set(remote.key, [remote])
    else list.push(remote)
    const { open } = remote
    this.charge(remote, open.protocol.length + (open.id?.byteLength ?? 0) + open.handshake.byteLength)
  }

  /** The oldest unpaired open for `key`, taken off the queue (it stays charged until paired). */
  takeUnpaired (key: string): RemoteChannel | undefined {
    const list = this._unpaired.get(key)
    if (list === undefined) return undefined
    const remote = list.shift()
    if (list.length === 0) this._unpaired.delete(key)
    if (remote !== undefined) this.unpairedCount--
    return remote
  }

  /** Holds a message sent on a channel we have not paired yet. */
  hold (remote: RemoteChannel, type: number, payload: Uint8Array): void {
    this.charge(remote, payload.byteLength)
    remote.pending.push({ type, payload: payload.slice() })
  }

  /** Forgets a remote channel (closed, rejected or torn down) and what it held. */
  drop (remote: RemoteChannel): void {
    if (this.byId.get(remote.remoteId) === remote) this.byId.delete(remote.remoteId)
    const list = this._unpaired.get(remote.key)
    const i = list === undefined ? -1 : list.indexOf(remote)
    if (list !== undefined && i !== -1) {
      list.splice(i, 1)
      if (list.length === 0) this._unpaired.delete(remote.key)
      this.unpairedCount--
    }
    this.release(remote)
  }

  /** Stops charging what `remote` holds (it paired, or is gone). */
  release (remote: RemoteChannel): void {
    this.unpairedBytes -= remote.cost
    remote.cost = 0
    remote.pending = []
  }

  private charge (remote: RemoteChannel, bytes: number): void {
    const cost = bytes + ENTRY_OVERHEAD
    if (this.unpairedBytes + cost > this._maxBytes) {
      throw HypercoreError.PROTOCOL_ERROR(`more than ${this._maxBytes} bytes held for unpaired remote channels`)
    }
    remote.cost += cost
    this.unpairedBytes += cost
  }
}
