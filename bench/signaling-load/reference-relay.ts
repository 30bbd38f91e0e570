/**
 * @module bench/signaling-load/reference-relay
 * The reference of the signaling load benchmark: the least a WebSocket relay of our messages
 * can do, on the same `ws` package. It takes a hello at its word (no challenge, no signature),
 * keeps rooms, answers joins with the room's members and forwards each signal, rebuilt with
 * the sender's id, to its receiver. No validation, no rate limit, no backlog bound, no ping,
 * no connection cap: what our server does beyond this is what the ratios measure.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket } from 'ws'

export interface ReferenceRelay {
  url: string
  stats: () => { connections: number }
  close: () => Promise<void>
}

export async function createReferenceRelay (): Promise<ReferenceRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * 1024 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const rooms = new Map<string, Map<string, WebSocket>>()
  wss.on('connection', (ws) => {
    let self: string | null = null
    const topics = new Set<string>()
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString())
      if (m.type === 'hello') {
        self = m.peerId as string
        ws.send(JSON.stringify({ type: 'welcome', peerId: self, limits: { maxMessageBytes: 65536, maxSignalBytes: 16384, maxTopics: 64 } }))
      } else if (self === null) {
        // nothing before hello
      } else if (m.type === 'join') {
        let room = rooms.get(m.topic)
        if (room === undefined) rooms.set(m.topic, room = new Map())
        const others = [...room.keys()].slice(0, 32)
        room.set(self, ws)
        topics.add(m.topic)
        ws.send(JSON.stringify({ type: 'peers', topic: m.topic, peers: others }))
        for (const o of others) room.get(o)?.send(JSON.stringify({ type: 'peer-joined', topic: m.topic, peerId: self }))
      } else if (m.type === 'signal') {
        const to = rooms.get(m.topic)?.get(m.to)
        to?.send(JSON.stringify({ type: 'signal', from: self, topic: m.topic, data: m.data, seq: m.seq, signature: m.signature }))
      }
    })
    ws.on('close', () => {
      for (const t of topics) {
        const room = rooms.get(t)
        if (room?.get(self!) === ws) room.delete(self!)
        if (room?.size === 0) rooms.delete(t)
      }
    })
    ws.on('error', () => {})
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    stats: () => ({ connections: wss.clients.size }),
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}
