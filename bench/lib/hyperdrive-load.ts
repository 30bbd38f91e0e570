/**
 * @module bench/lib/hyperdrive-load
 * The Hyperdrive benchmark's drive and its two measurements, platform-neutral so the Chromium
 * pages (bench/pages/hyperdrive.page.ts, our Corestore) and Node (hyperdrive@11 on
 * corestore@6) run the same code: a drive of `files` small files in folders of 100 plus one
 * big file; `timeList` opens a reader drive by key and lists every file; `timeRead` reads the
 * big file through `createReadStream` (hyperblobs prefetches the whole range) and
 * fingerprints it after the clock stops.
 */
import b4a from 'b4a'
import { Blake2b } from '../../src/crypto/hash.js'
import { cryptoReady } from '../../src/crypto/sodium.js'

export const BIG_PATH = '/big.bin'

/** File `i`'s path and bytes. */
export const filePath = (i: number): string => `/files/d${String(Math.floor(i / 100)).padStart(3, '0')}/f${String(i).padStart(5, '0')}.txt`
const fileBytes = (i: number): Uint8Array => b4a.from(`file ${i} `.repeat(8))

/** A big file's bytes: cheap to make, different in every 64 KiB block. */
function bigBytes (size: number): Uint8Array {
  const b = b4a.alloc(size)
  for (let i = 0; i < size; i += 4096) b[i] = (i >>> 12) & 0xff
  for (let i = 0; i < size; i += 65536) new DataView(b.buffer, b.byteOffset).setUint32(i, i >>> 16)
  return b
}

async function fingerprint (chunks: Uint8Array[]): Promise<string> {
  await cryptoReady()
  const h = new Blake2b(32)
  for (const c of chunks) h.update(c)
  return b4a.toString(h.digest(), 'hex').slice(0, 16)
}

/** Fills a writable drive; returns the big file's fingerprint. */
export async function fillDrive (drive: any, { files, bigMiB }: { files: number, bigMiB: number }): Promise<string> {
  await drive.ready()
  for (let start = 0; start < files; start += 1000) {
    const batch = drive.batch()
    for (let i = start; i < Math.min(files, start + 1000); i++) await batch.put(filePath(i), fileBytes(i))
    await batch.flush()
  }
  const big = bigBytes(bigMiB * 2 ** 20)
  await drive.put(BIG_PATH, big)
  return await fingerprint([big])
}

/** Milliseconds from opening the drive by key (the connection is up) to having listed every file. */
export async function timeList (open: () => any): Promise<{ ms: number, count: number, drive: any }> {
  const t0 = performance.now()
  const drive = open()
  await drive.ready()
  // hypercore@10's update() answers at once while the core has no peer: wait for the writer's channel.
  if (drive.core.peers.length === 0) await new Promise(resolve => drive.core.once('peer-add', resolve))
  await drive.update({ wait: true })
  let count = 0
  for await (const entry of drive.list('/files')) if (entry.value.blob !== null) count++
  return { ms: performance.now() - t0, count, drive }
}

/** Milliseconds to read the big file of `drive` through `createReadStream`, its length and fingerprint. */
export async function timeRead (drive: any): Promise<{ ms: number, bytes: number, fingerprint: string }> {
  const t0 = performance.now()
  const chunks: Uint8Array[] = []
  let bytes = 0
  for await (const chunk of drive.createReadStream(BIG_PATH)) { chunks.push(chunk); bytes += chunk.byteLength }
  const ms = performance.now() - t0
  return { ms, bytes, fingerprint: await fingerprint(chunks) }
}
