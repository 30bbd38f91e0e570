/**
 * @module web-test/peers/swarm-abuser
 * A misbehaving client of our signaling server (a plain `ws` socket in Node): it sends one
 * kind of bad input and reports the close code the server answered with, so the spec can
 * check the server closes it while the browsers' swarm keeps being served.
 */
import { WebSocket } from 'ws'

export type Abuse = 'not-json' | 'junk-json' | 'huge' | 'flood'

export interface AbuseResult {
  code: number
  reason: string
  /** Messages we managed to send before the close. */
  sent: number
}

/** A syntactically valid peer id (64 lowercase hex characters) of our own. */
const randomId = (): string => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('')

export function abuse (url: string, kind: Abuse): Promise<AbuseResult> {
  const ws = new WebSocket(url)
  let sent = 0
  const send = (s: string): void => {
    if (ws.readyState !== WebSocket.OPEN) return
    ws.send(s)
    sent++
  }
  ws.on('error', () => {}) // the server may cut us off mid-send; the close code is what we check
  ws.on('open', () => {
    if (kind === 'not-json') return send('{"type": "hello", peerId: ')
    if (kind === 'junk-json') return send(JSON.stringify({ type: 'hello', peerId: ['not', 'an', 'id'], extra: { deep: [1, 2, 3] } }))
    send(JSON.stringify({ type: 'hello', peerId: randomId() }))
    // 200 KiB in one message: over the server's 64 KiB maxMessageBytes.
    if (kind === 'huge') return send(JSON.stringify({ type: 'signal', to: randomId(), topic: randomId(), data: { sdp: 'x'.repeat(200 * 1024) } }))
    // Valid, harmless messages (leaving a room we are not in), far faster than 20/s.
    for (let i = 0; i < 500; i++) send(JSON.stringify({ type: 'leave', topic: randomId() }))
  })
  return new Promise(resolve => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), sent })))
}
