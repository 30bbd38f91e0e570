/**
 * @module test/compat/corestore6-secret-stream
 * corestore@6 (on hypercore@10) replicating over OUR `SecretStream`, the stream our Swarm hands
 * out for each connection, as it replicates over hyperswarm's `@hyperswarm/secret-stream`:
 * `store.replicate(stream)` finds the Noise stream (`stream.noiseStream`), keeps npm protomux in
 * its `userData`, and a drive (hyperdrive@11) replicates on it, with corestore@6 or our
 * Corestore at the other end. This is how `npm run demo:fetch` reads a browser's drive.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Corestore, MemoryDirectory } from '../../src/index.js'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { SecretStream } from '../../src/replication/secret-stream/index.js'
import { RAM, RefCorestore } from '../store/helpers.js'

const require = createRequire(import.meta.url)
const Hyperdrive = require('hyperdrive') as any
const Protomux = require('protomux') as any

function pattern (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed * 7 + (i >> 9)) & 0xff
  return b
}

/** Two of our secret streams, linked in memory (what the swarm hands each side). */
function linkedSecretStreams (): [SecretStream, SecretStream] {
  const a = new SecretStream(true, null, { keyPair: keyPair() })
  const b = new SecretStream(false, null, { keyPair: keyPair() })
  ;(a.rawStream as any).pipe(b.rawStream).pipe(a.rawStream)
  return [a, b]
}

for (const [w, r] of [['corestore@6', 'corestore@6'], ['ours', 'corestore@6'], ['corestore@6', 'ours']] as const) {
  const name = (kind: string): string => kind === 'ours' ? 'our Corestore' : 'corestore@6'
  test(`a drive on ${name(w)} is read from ${name(r)} over our SecretStream (store.replicate(secretStream))`, async () => {
    await cryptoReady()
    const mk = (kind: string): any => kind === 'ours' ? new Corestore(new MemoryDirectory()) : new RefCorestore(RAM.reusable())
    const wstore = mk(w)
    const rstore = mk(r)
    const writer = new Hyperdrive(wstore)
    await writer.put('/set/a.bin', pattern(300_000, 1))
    await writer.put('/set/b.txt', Buffer.from('b'))
    const [sa, sb] = linkedSecretStreams()
    wstore.replicate(sa)
    rstore.replicate(sb)
    // corestore@6's side multiplexes our stream with npm protomux, kept in the stream's userData
    for (const [kind, s] of [[w, sa], [r, sb]] as const) {
      if (kind === 'corestore@6') assert.ok(Protomux.isProtomux(s.userData), 'npm protomux on our secret stream')
    }
    const reader = new Hyperdrive(rstore, writer.key)
    await reader.ready()
    await reader.update({ wait: true })
    assert.equal(reader.version, writer.version)
    const got: Record<string, number> = {}
    for await (const e of reader.list('/')) got[e.key] = (await reader.get(e.key)).byteLength
    assert.deepEqual(got, { '/set/a.bin': 300_000, '/set/b.txt': 1 })
    assert.ok((await reader.get('/set/a.bin')).equals(pattern(300_000, 1)))
    sa.destroy()
    sb.destroy()
    await reader.close()
    await writer.close()
  })
}
