/**
 * @module test/compat/hyperbee-workload
 * One Hyperbee workload (every call an app makes: put, get, del, batch, sub, ranges, snapshot,
 * checkout, history and diff streams) that returns what each read saw, as plain JSON. Node
 * (test/compat/hyperbee.test.ts) and Chromium (web-test/hyperbee.spec.ts) run it on our core
 * and compare with the same workload on hypercore@10.
 */
import b4a from 'b4a'

export const beeOpts = { keyEncoding: 'utf-8', valueEncoding: 'json' }

export async function keysOf (stream: AsyncIterable<any>, pick: (x: any) => unknown = x => x.key): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const x of stream) out.push(pick(x))
  return out
}

/** The workload: every Hyperbee call an app makes; returns what each read saw. */
export async function beeWorkload (Hyperbee: any, core: any): Promise<Record<string, unknown>> {
  const db = new Hyperbee(core, beeOpts)
  await db.ready()
  const seen: Record<string, unknown> = {}
  for (const k of ['delta', 'alpha', 'echo', 'charlie', 'bravo']) await db.put(k, { k, n: k.length })
  seen.get = (await db.get('charlie')).value
  seen.missing = await db.get('zulu')
  await db.del('bravo')
  seen.deleted = await db.get('bravo')
  const batch = db.batch()
  await batch.put('x-ray', 1)
  await batch.put('yankee', 2)
  await batch.del('alpha')
  seen.inBatch = [(await batch.get('x-ray')).value, await batch.get('alpha')]
  await batch.flush()
  const sub = db.sub('people')
  await sub.put('ada', { born: 1815 })
  seen.sub = [(await sub.get('ada')).value, await db.get('ada')]
  seen.range = await keysOf(db.createReadStream({ gte: 'b', lt: 'y' }))
  seen.reverse = await keysOf(db.createReadStream({ reverse: true, limit: 3 }))
  seen.subRange = await keysOf(sub.createReadStream())
  const snap = db.snapshot()
  const snapVersion = snap.version
  await db.put('zulu', 'late')
  seen.snapshot = [snapVersion, await snap.get('zulu'), (await db.get('zulu')).value]
  await snap.close()
  const old = db.checkout(4)
  seen.checkout = await keysOf(old.createReadStream())
  await old.close()
  seen.history = await keysOf(db.createHistoryStream({ gte: 2 }), x => [x.seq, x.type, x.key])
  seen.diff = await keysOf(db.createDiffStream(3), d => [d.left?.key ?? null, d.right?.key ?? null])
  seen.version = db.version
  seen.treeHash = b4a.toString(await core.treeHash(), 'hex')
  await db.close()
  return seen
}

