/**
 * @module web-test/suites/hyperbee
 * Hyperbee (hyperbee@2, unchanged, extension on) on our core in a real browser, on real
 * IndexedDB (page: web-test/pages/hyperbee.page.ts):
 * (a) the shared workload gives the same reads and the same tree hash as hypercore@10 running
 *     it in this Node process, and reads back after a page reload;
 * (b) a page reader replicates a Hyperbee from a Node hypercore@10 writer over a WebSocket,
 *     its lookups answered through Hyperbee's extension; and a page writer serves a Node
 *     hypercore@10 reader, whose extension request the page answers.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { RAM, RefHypercore, serveRefCore } from '../peers/ref-peer.js'
import { beeOpts, beeWorkload } from '../../test/compat/hyperbee-workload.js'
import type { BrowserCase } from './page.js'

const require = createRequire(import.meta.url)
const Hyperbee = require('hyperbee')
const crypto = require('hypercore-crypto')

async function filledWriter (core: any): Promise<any> {
  const db = new Hyperbee(core, beeOpts)
  await db.ready()
  const b = db.batch()
  for (let i = 0; i < 300; i++) await b.put(`key-${String(i).padStart(4, '0')}`, { i })
  await b.flush()
  return db
}

export const hyperbeeCases: BrowserCase[] = [
  {
    title: b => `Hyperbee on IndexedDB and memory in ${b}: the same reads and tree hash as hypercore@10; the IndexedDB bee reads back after a reload`,
    async run ({ page }) {
      await page.open('/pages/hyperbee.html')
      const theirs = await beeWorkload(Hyperbee, new RefHypercore(RAM, { keyPair: crypto.keyPair(Buffer.alloc(32, 7)) }))
      const name = `bee-${Date.now()}`
      assert.deepEqual(await page.call('workload', { kind: 'indexeddb', name }), theirs)
      assert.deepEqual(await page.call('workload', { kind: 'memory', name: '' }), theirs)
      await page.reload()
      const back = await page.call('reopen', { name })
      assert.equal(back.version, theirs.version)
      assert.deepEqual(back.ada, { born: 1815 })
      assert.deepEqual(back.keys, ['charlie', 'delta', 'echo', 'people\u0000ada', 'x-ray', 'yankee', 'zulu'])
      assert.deepEqual(page.errors, [])
    }
  },
  {
    title: b => `a ${b} Hyperbee reader (IndexedDB) replicates from a Node hypercore@10 writer; its lookup is answered by the writer's extension`,
    async run ({ page }) {
      await page.open('/pages/hyperbee.html')
      const wdb = await filledWriter(new RefHypercore(RAM))
      const gets: string[] = []
      const onget = wdb.extension.onget.bind(wdb.extension)
      wdb.extension.onget = (m: any, from: any) => { gets.push(Buffer.from(m.key).toString()); onget(m, from) }
      const server = await serveRefCore(wdb.core)
      try {
        const r = await page.call('read', { url: server.url, key: Buffer.from(wdb.core.key).toString('hex'), name: `bee-reader-${Date.now()}` })
        assert.deepEqual(r.value, { i: 42 })
        assert.equal(r.version, wdb.version)
        assert.deepEqual(gets, ['key-0042'])
        assert.equal(r.caches.length, 1)
        assert.ok(r.caches[0].length > 1, `cached blocks: ${r.caches[0].length}`)
        assert.deepEqual(r.cached, r.caches[0].map(() => true))
        assert.deepEqual(r.tail, ['key-0297', 'key-0298', 'key-0299'])
        assert.ok(r.stored < wdb.core.length, `stored ${r.stored} of ${wdb.core.length}`)
        assert.deepEqual(server.errors, [])
      } finally {
        await page.call('close')
        await server.close()
        await wdb.close()
      }
      assert.deepEqual(page.errors, [])
    }
  },
  {
    title: b => `a Node hypercore@10 Hyperbee reader replicates from a ${b} writer (IndexedDB); the page answers its extension request`,
    async run ({ page }) {
      await page.open('/pages/hyperbee.html')
      const key = Buffer.from(await page.call<string>('write', { count: 300, name: `bee-writer-${Date.now()}` }), 'hex')
      const rcore = new RefHypercore(RAM, key)
      const rdb = new Hyperbee(rcore, beeOpts)
      const caches: number[][] = []
      const oncache = rdb.extension.oncache.bind(rdb.extension)
      rdb.extension.oncache = (m: any, from: any) => { caches.push([...m.blocks]); oncache(m, from) }
      const server = await serveRefCore(rcore)
      try {
        // With no peer yet, hypercore@10's update() answers at once with the length it has (0):
        // wait for the page's channel first (the page's WebSocket may open after rdb.ready()).
        const peer = new Promise(resolve => rcore.once('peer-add', resolve))
        await page.call('dial', { url: server.url })
        await rdb.ready()
        await peer
        await rcore.update({ wait: true })
        assert.deepEqual((await rdb.get('key-0042')).value, { i: 42 })
        assert.deepEqual(await page.call('writerGets'), ['key-0042'])
        assert.equal(caches.length, 1)
        for (const seq of caches[0]!) assert.equal(await rcore.has(seq), true, `the reader has block ${seq}`)
        assert.deepEqual(server.errors, [])
      } finally {
        await page.call('close')
        await server.close()
        await rdb.close()
      }
      assert.deepEqual(page.errors, [])
    }
  }
]
