/**
 * @module test/swarm/rules.test
 * The pure parts of the swarm: the duplicate-connection rule must give both ends the same
 * answer; backoff delays grow, cap, and restart after a connection that lasted.
 */
import { test } from 'node:test'
import assert from 'node:assert'
import { Backoff, keepFirst } from '../../src/swarm/index.js'

function bytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

test('keepFirst: both ends keep the same connection', () => {
  let keptA = 0
  for (let i = 0; i < 500; i++) {
    const self = bytes(32, i)
    const remote = bytes(32, i + 10000)
    const a = { initiator: (i & 1) === 0, handshakeHash: bytes(64, i + 20000) }
    const b = { initiator: (i & 2) === 0, handshakeHash: i % 7 === 0 ? a.handshakeHash : bytes(64, i + 30000) }
    const here = keepFirst(a, b, self, remote)
    // The same two connections seen from the other end: roles flipped, same handshake hashes.
    const there = keepFirst({ initiator: !a.initiator, handshakeHash: a.handshakeHash }, { initiator: !b.initiator, handshakeHash: b.handshakeHash }, remote, self)
    assert.equal(here, there, `case ${i}`)
    // Order of arrival does not matter either (unless the hashes are equal: then it is the same connection).
    if (a.handshakeHash !== b.handshakeHash) assert.equal(keepFirst(b, a, self, remote), !here, `case ${i} swapped`)
    if (here) keptA++
  }
  assert.ok(keptA > 100 && keptA < 400, 'the rule is not constant')
})

test('keepFirst: the connection started by the smaller key wins', () => {
  const small = new Uint8Array(32).fill(1)
  const big = new Uint8Array(32).fill(2)
  const h1 = new Uint8Array(64).fill(9)
  const h2 = new Uint8Array(64).fill(3)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: false, handshakeHash: h2 }, small, big), true)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: false, handshakeHash: h2 }, big, small), false)
  assert.equal(keepFirst({ initiator: true, handshakeHash: h1 }, { initiator: true, handshakeHash: h2 }, small, big), false, 'same initiator: smaller hash')
})

test('Backoff: doubles with jitter, caps, restarts after a stable connection', () => {
  const b = new Backoff({ initial: 100, max: 1000, random: () => 0.5 })
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.fail('p')), [100, 200, 400, 800, 1000, 1000])
  assert.equal(b.fail('q'), 100, 'per key')
  assert.equal(b.fail('p', 999), 1000, 'a short-lived connection keeps the count')
  assert.equal(b.fail('p', 1000), 100, 'one that lasted stableAfter (10 × initial) restarts it')
  const low = new Backoff({ initial: 100, random: () => 0 })
  const high = new Backoff({ initial: 100, random: () => 0.999999 })
  assert.equal(low.fail('x'), 75)
  assert.equal(high.fail('x'), 125)
  b.reset('p')
  assert.equal(b.failures('p'), 0)
})
