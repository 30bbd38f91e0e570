/**
 * @module test/signaling/lying-relay
 * A malicious signaling server for the tests (Node, the `ws` package): it speaks our protocol
 * to real `WebSocketSignaling` clients (challenge, welcome, rooms, peer lists) but checks no
 * proof, and every signal passes through `tamper`, which may alter any field, send it to
 * someone else, send it twice or keep it for later. What the clients must do is drop what does
 * not verify, whatever the server says.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket } from 'ws'

/** A signal as the honest server would relay it, plus whom it was for. */
export interface Relayed {
  from: string
  to: string
  topic: string
  data: string
  seq: number
  signature: string
}

/** What to deliver instead: a list of (receiver, message); an empty list swallows it. */
export type Tamper = (m: Relayed) => Array<{ to: string, msg: Record<string, unknown> }> | null

export interface LyingRelay {
  url: string
  /** Peer id → its socket, for the clients that said hello. */
  readonly sockets: Map<string, WebSocket>
  /** Every signal relayed so far, as received (before tampering). */
  readonly seen: Relayed[]
  tamper: Tamper | null
  /** Sends any message to the client that said hello with `peerId`. */
  deliver: (peerId: string, msg: Record<string, unknown>) => void
  close: () => Promise<void>
}

/** The honest relay of `m`: what our server would send to `m.to`. */
export function honest (m: Relayed): Record<string, unknown> {
  return { type: 'signal', from: m.from, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }
}

export async function lyingRelay (): Promise<LyingRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const rooms = new Map<string, Set<string>>()
  const sockets = new Map<string, WebSocket>()
  const seen: Relayed[] = []
  const relay: LyingRelay = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sockets,
    seen,
    tamper: null,
    deliver: (peerId, msg) => {
      const ws = sockets.get(peerId)
      if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg))
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
  wss.on('connection', (ws) => {
    let self: string | null = null
    ws.send(JSON.stringify({ type: 'challenge', nonce: randomBytes(32).toString('hex') }))
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString())
      if (m.type === 'hello') {
        // No proof checked: this server believes whatever id it is told.
        self = m.peerId as string
        sockets.set(self, ws)
        ws.send(JSON.stringify({ type: 'welcome', peerId: self, limits: { maxMessageBytes: 65536, maxSignalBytes: 16384, maxTopics: 64 } }))
        return
      }
      if (self === null) return
      if (m.type === 'join') {
        const room = rooms.get(m.topic) ?? new Set<string>()
        rooms.set(m.topic, room)
        const others = [...room].filter(p => p !== self)
        room.add(self)
        ws.send(JSON.stringify({ type: 'peers', topic: m.topic, peers: others }))
        for (const o of others) relay.deliver(o, { type: 'peer-joined', topic: m.topic, peerId: self })
      } else if (m.type === 'leave') {
        rooms.get(m.topic)?.delete(self)
      } else if (m.type === 'signal') {
        const r: Relayed = { from: self, to: m.to, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }
        seen.push(r)
        const out = relay.tamper?.(r) ?? [{ to: r.to, msg: honest(r) }]
        for (const d of out) relay.deliver(d.to, d.msg)
      }
    })
    ws.on('close', () => {
      if (self !== null && sockets.get(self) === ws) sockets.delete(self)
      for (const room of rooms.values()) if (self !== null) room.delete(self)
    })
    ws.on('error', () => {})
  })
  return relay
}
