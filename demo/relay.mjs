/**
 * @module demo/relay
 * The demo's fallback network where WebRTC cannot connect (`?relay`): a WebSocket relay on
 * the demo server. A page opens one control socket per topic (a core's
 * discovery key); for each pair of pages in a topic the relay hands both a pair id, and each
 * opens a pipe socket for it: the relay then copies bytes between the two pipes. The bytes are
 * the encrypted replication stream (Noise + secret-stream), so the relay sees ciphertext only.
 * demo/src/network.ts is the only client.
 */
import { WebSocketServer } from 'ws'
import { randomBytes } from 'node:crypto'

const MAX_PENDING = 4 * 1024 * 1024
const PAIR_TIMEOUT = 15_000

/** Serves `/relay/topic?t=<hex>` and `/relay/pipe?p=<id>` upgrades on an http server. */
export function attachRelay (server) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 })
  /** topic → Set of control sockets */
  const topics = new Map()
  /** pair id → { sockets: ws[], pending: Buffer[], pendingBytes, timer } */
  const pairs = new Map()

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/relay/topic' && url.pathname !== '/relay/pipe') return
    wss.handleUpgrade(req, socket, head, ws => {
      if (url.pathname === '/relay/topic') onTopic(ws, url.searchParams.get('t') ?? '')
      else onPipe(ws, url.searchParams.get('p') ?? '')
    })
  })

  function onTopic (ws, topic) {
    if (!/^[0-9a-f]{64}$/.test(topic)) { ws.close(4000, 'bad topic'); return }
    let members = topics.get(topic)
    if (members === undefined) topics.set(topic, members = new Set())
    for (const other of members) {
      const id = randomBytes(16).toString('hex')
      pairs.set(id, { sockets: [], pending: [], pendingBytes: 0, timer: setTimeout(() => dropPair(id), PAIR_TIMEOUT) })
      send(other, { type: 'pair', id, initiator: false })
      send(ws, { type: 'pair', id, initiator: true })
    }
    members.add(ws)
    ws.on('message', () => {}) // control sockets only listen
    ws.on('close', () => {
      members.delete(ws)
      if (members.size === 0) topics.delete(topic)
    })
    ws.on('error', () => ws.terminate())
  }

  function onPipe (ws, id) {
    const pair = pairs.get(id)
    if (pair === undefined || pair.sockets.length >= 2) { ws.close(4001, 'unknown pair'); return }
    pair.sockets.push(ws)
    const me = pair.sockets.length - 1
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return
      const other = pair.sockets[1 - me]
      if (other !== undefined) { other.send(data); return }
      // The partner has not connected yet: hold what the first one says (its handshake).
      pair.pendingBytes += data.length
      if (pair.pendingBytes > MAX_PENDING) { dropPair(id); return }
      pair.pending.push(data)
    })
    ws.on('close', () => dropPair(id))
    ws.on('error', () => dropPair(id))
    if (pair.sockets.length === 2) {
      clearTimeout(pair.timer)
      for (const data of pair.pending) ws.send(data)
      pair.pending = []
    }
  }

  function dropPair (id) {
    const pair = pairs.get(id)
    if (pair === undefined) return
    pairs.delete(id)
    clearTimeout(pair.timer)
    for (const s of pair.sockets) s.close()
  }

  return {
    close () {
      for (const id of [...pairs.keys()]) dropPair(id)
      for (const members of topics.values()) for (const ws of members) ws.terminate()
      topics.clear()
      wss.close()
    }
  }
}

function send (ws, msg) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
}
