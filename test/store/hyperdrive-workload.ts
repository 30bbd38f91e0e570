/**
 * @module test/store/hyperdrive-workload
 * One Hyperdrive workload (hyperdrive@11, unchanged) that runs on any store: ours, or
 * corestore@6. Everything it returns is plain JSON, so two runs compare with deepEqual:
 * put/get/entry/exists/del, symlinks, write and read streams (byte ranges), list/readdir,
 * batches, checkouts, diffs, mirror into another drive, clear, and the cores' tree hashes
 * (the same blocks in the same order).
 */
import { createHash } from 'node:crypto'

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16)

/** Deterministic bytes: `n` bytes of a pattern seeded by `seed`. */
export function pattern (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

export async function collect (stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const x of stream) out.push(x)
  return out
}

async function readAll (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat((await collect(stream)) as Buffer[])
}

/** An entry without the parts that are implementation details (hyperbee's seq). */
function entryJson (e: any): unknown {
  return e === null ? null : { key: e.key, value: e.value }
}

export async function driveWorkload (Hyperdrive: any, store: any): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const drive = new Hyperdrive(store)
  await drive.ready()
  out.key = drive.key.toString('hex')
  out.writable = drive.writable

  await drive.put('/a.txt', Buffer.from('hello'))
  await drive.put('/dir/b.bin', pattern(200_000, 1))
  await drive.put('/dir/sub/c.txt', Buffer.from('deep'))
  await drive.put('/exec.sh', Buffer.from('#!/bin/sh'), { executable: true, metadata: { mode: 'x' } })
  out.contentKey = drive.contentKey.toString('hex')
  out.get = (await drive.get('/a.txt')).toString()
  out.getMissing = await drive.get('/nope')
  out.entry = entryJson(await drive.entry('/dir/b.bin'))
  out.exec = entryJson(await drive.entry('/exec.sh'))
  out.exists = [await drive.exists('/a.txt'), await drive.exists('/dir'), await drive.exists('/nope')]

  await drive.symlink('/link', '/a.txt')
  out.link = entryJson(await drive.entry('/link'))

  const ws = drive.createWriteStream('/stream.bin')
  for (let i = 0; i < 5; i++) ws.write(pattern(30_000, 10 + i))
  ws.end()
  await new Promise((resolve, reject) => { ws.once('close', resolve); ws.once('error', reject) })
  const streamed = await drive.get('/stream.bin')
  out.streamed = [streamed.byteLength, sha(streamed)]

  const b = pattern(200_000, 1)
  const ranges: Array<Record<string, number>> = [{}, { start: 1000, end: 70_000 }, { start: 5, length: 10 }, { start: 199_990 }, { start: 65_536, end: 65_536 }]
  out.ranges = []
  for (const r of ranges) {
    const got = await readAll(drive.createReadStream('/dir/b.bin', r))
    const end = r.end !== undefined ? r.end + 1 : r.length !== undefined ? (r.start ?? 0) + r.length : b.byteLength
    ;(out.ranges as unknown[]).push([got.byteLength, sha(got), sha(b.subarray(r.start ?? 0, end))])
  }

  out.list = ((await collect(drive.list('/'))) as any[]).map(e => e.key)
  out.listShallow = ((await collect(drive.list('/', { recursive: false }))) as any[]).map(e => e.key)
  out.readdir = await collect(drive.readdir('/'))
  out.readdirDir = await collect(drive.readdir('/dir'))
  out.entries = ((await collect(drive.entries())) as any[]).map(e => e.key)

  const before = drive.version
  const batch = drive.batch()
  await batch.put('/batch/1', Buffer.from('one'))
  await batch.put('/batch/2', Buffer.from('two'))
  await batch.del('/a.txt')
  await batch.flush()
  out.afterBatch = [await drive.get('/a.txt'), (await drive.get('/batch/2')).toString(), drive.version - before]

  const checkout = drive.checkout(before)
  await checkout.ready()
  out.checkout = [(await checkout.get('/a.txt')).toString(), await checkout.get('/batch/1'), checkout.version]
  await checkout.close()

  out.diff = ((await collect(drive.diff(before, '/'))) as any[]).map(d => [d.left?.key ?? null, d.right?.key ?? null])

  await drive.del('/dir/sub/c.txt')
  out.afterDel = [await drive.exists('/dir/sub/c.txt'), ((await collect(drive.list('/dir'))) as any[]).map(e => e.key)]

  const mirror = new Hyperdrive(store.namespace('mirror'))
  await mirror.ready()
  // preload: false because mirror-drive@1.14's preload calls hypercore@11's
  // `replicator.setInflightRange`, which hypercore@10 (under corestore@6) does not have.
  const m = drive.mirror(mirror, { preload: false })
  await m.done()
  out.mirror = [m.count, ((await collect(mirror.list('/'))) as any[]).map(e => e.key), sha(await mirror.get('/dir/b.bin'))]
  out.mirrorKey = mirror.key.toString('hex')
  await mirror.close()

  // What clear() reports freeing depends on the storage (hypercore@10 measures the file's
  // allocated blocks, 0 on random-access-memory): only its shape is compared.
  const cleared = await drive.clear('/stream.bin', { diff: true })
  out.cleared = typeof cleared?.blocks === 'number'
  out.streamedAfterClear = await drive.get('/stream.bin', { wait: false }).catch((e: any) => e.code ?? String(e))

  out.version = drive.version
  out.lengths = [drive.core.length, drive.blobs.core.length]
  out.treeHashes = [Buffer.from(await drive.core.treeHash()).toString('hex'), Buffer.from(await drive.blobs.core.treeHash()).toString('hex')]
  await drive.close()
  return out
}
