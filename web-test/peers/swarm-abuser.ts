/**
 * @module web-test/peers/swarm-abuser
 * A misbehaving client of our signaling server (a plain `ws` socket in Node): it sends one
 * kind of bad input and reports the close code the server answered with, so the spec can
 * check the server closes it while the browsers' swarm keeps being served.
 */
import { WebSocket } from 'ws'
import { cryptoReady, keyPair, sign } from '../../src/crypto/index.js'
import { helloSignable, toHex } from '../../src/signaling/auth.js'

export type Abuse = 'not-json' | 'junk-json' | 'huge' | 'flood'

export interface AbuseResult {
  code: number
  reason: string
  /** Messages we managed to send before the close. */
  sent: number
}

/** 64 lowercase hex characters (a topic, or an id nobody holds). */
const randomId = (): string => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('')

export async function abuse (url: string, kind: Abuse): Promise<AbuseResult> {
  await cryptoReady()
  // A peer id of our own, proven: the abuses after the hello are those of a client the server accepted.
  const kp = keyPair()
  const self = toHex(kp.publicKey)
  const ws = new WebSocket(url)
  let sent = 0
  const send = (s: string): void => {
    if (ws.readyState !== WebSocket.OPEN) return
    ws.send(s)
    sent++
  }
  ws.on('error', () => {}) // the server may cut us off mid-send; the close code is what we check
  // The server speaks first, with our challenge.
  ws.once('message', (m) => {
    if (kind === 'not-json') return send('{"type": "hello", peerId: ')
    if (kind === 'junk-json') return send(JSON.stringify({ type: 'hello', peerId: ['not', 'an', 'id'], extra: { deep: [1, 2, 3] } }))
    const { nonce } = JSON.parse(m.toString()) as { nonce: string }
    const signature = toHex(sign(helloSignable(Uint8Array.from(Buffer.from(nonce, 'hex')), self, new URL(url).host), kp.secretKey))
    send(JSON.stringify({ type: 'hello', peerId: self, signature }))
    // 200 KiB in one message: over the server's 64 KiB maxMessageBytes.
    if (kind === 'huge') return send(JSON.stringify({ type: 'signal', to: randomId(), topic: randomId(), data: JSON.stringify({ sdp: 'x'.repeat(200 * 1024) }), seq: 1, signature: '00'.repeat(64) }))
    // Valid, harmless messages (leaving a room we are not in), far faster than 20/s.
    for (let i = 0; i < 500; i++) send(JSON.stringify({ type: 'leave', topic: randomId() }))
  })
  return new Promise(resolve => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), sent })))
}
