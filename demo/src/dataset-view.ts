/**
 * @module demo/dataset-view
 * One open dataset (a Hyperdrive) on the page: its file list with a progress bar per file, the
 * totals over the drive's blobs core (blocks, bytes, rate, peers, uploaded), download / pause,
 * saving each file or all of them (.zip), and the messages a person needs (no peers yet, peer
 * gone, the files' contents not coming, storage full). The same view serves the person who
 * shared the dataset (seeding) and a reader.
 */
import type { Hypercore } from '../../src/core/hypercore.js'
import { HypercoreError } from '../../src/errors.js'
import { baseName, blobsLength, blockSizes, fileRange, readFileBlocks, type DatasetInfo, type DriveFile, type Hyperdrive } from './drive.js'
import { wantKey } from './kept.js'
import { hex } from './link.js'
import { $, explain, formatBytes, h, notice, RateMeter } from './ui.js'
import { zipParts } from './zip.js'

interface Row { file: DriveFile, bar: HTMLProgressElement, status: HTMLElement, save: HTMLButtonElement, get: HTMLButtonElement }

/** With peers that have the drive but none its blobs core for this long, say the contents are not coming. */
const NO_BLOBS_AFTER = 6000

export class DatasetView {
  private readonly have: Uint8Array
  private readonly sizes: Float64Array
  private readonly total: number
  private readonly bytes: number
  private haveCount = 0
  private haveBytes = 0
  /** Blobs blocks already stored when the page opened the dataset (a resume shows it). */
  readonly haveAtOpen: number
  private fetchedBlocks = 0
  private fetchedBytes = 0
  private uploaded = 0
  private readonly down = new RateMeter()
  private readonly up = new RateMeter()
  private readonly rows: Row[] = []
  private range: { destroy (): void, done (): Promise<boolean> } | null = null
  private readonly fileRanges = new Set<{ destroy (): void }>()
  private timer: ReturnType<typeof setInterval> | null = null
  private hadPeer = false
  private noBlobsSince = 0
  private closed = false

  constructor (readonly drive: Hyperdrive, readonly blobs: Hypercore, readonly files: DriveFile[], readonly info: DatasetInfo, have: Uint8Array, private readonly id: string) {
    this.have = have
    this.sizes = blockSizes(files)
    this.total = blobsLength(files)
    this.bytes = files.reduce((n, f) => n + f.size, 0)
    for (let i = 0; i < this.total; i++) if (have[i] === 1) { this.haveCount++; this.haveBytes += this.sizes[i]! }
    this.haveAtOpen = this.haveCount
  }

  /** Reads which blobs blocks are stored already (from IndexedDB), then builds the view. */
  static async open (drive: Hyperdrive, blobs: Hypercore, files: DriveFile[], info: DatasetInfo, id: string): Promise<DatasetView> {
    const total = blobsLength(files)
    const have = new Uint8Array(total)
    // Everything below the contiguous length is stored: only the rest is asked block by block.
    const contiguous = Math.min(blobs.contiguousLength, total)
    have.fill(1, 0, contiguous)
    for (let i = contiguous; i < total; i++) have[i] = (await blobs.has(i)) ? 1 : 0
    const view = new DatasetView(drive, blobs, files, info, have, id)
    view.render()
    return view
  }

  get complete (): boolean { return this.haveCount === this.total }

  private render (): void {
    const { files, drive } = this
    $('ds-name').textContent = this.info.name
    $('ds-summary').textContent = `${files.length} file${files.length === 1 ? '' : 's'} · ${formatBytes(this.bytes)} · a Hyperdrive: ${this.total} blocks of contents, ${drive.core.length} of file list`
    $('ds-cores').textContent = `Hyperdrive version ${drive.version} · file list (db core) ${hex(drive.key).slice(0, 8)}… · contents (blobs core) ${hex(this.blobs.key!).slice(0, 8)}…`
    const list = $('file-list')
    list.replaceChildren()
    for (const file of files) {
      const bar = h('progress', { max: String(Math.max(1, file.blocks)), value: '0', 'aria-label': `${file.path} progress` }) as HTMLProgressElement
      const status = h('span', { class: 'file-status' })
      const save = h('button', { type: 'button', class: 'small primary', disabled: '' }, 'Save') as HTMLButtonElement
      const get = h('button', { type: 'button', class: 'small' }, 'Get') as HTMLButtonElement
      save.setAttribute('aria-label', `Save ${file.path}`)
      get.setAttribute('aria-label', `Get ${file.path}`)
      save.onclick = () => { void this.save(file) }
      get.onclick = () => { void this.getFile(file) }
      const li = h('li', { class: 'file', 'data-path': file.path },
        h('div', { class: 'file-name' }, h('span', { class: 'file-icon', 'aria-hidden': 'true', 'data-kind': file.type.split('/')[0] ?? '' }, icon(file)), h('span', { title: '/' + file.path }, file.path)),
        h('span', { class: 'file-size' }, formatBytes(file.size)),
        bar, status, h('div', { class: 'file-actions' }, get, save))
      list.append(li)
      this.rows.push({ file, bar, status, save, get })
    }
    $('btn-download').onclick = () => this.downloadAll()
    $('btn-pause').onclick = () => this.pause()
    $('btn-save-all').onclick = () => { void this.saveAll() }
    this.blobs.on('download', this.ondownload)
    for (const core of [this.blobs, drive.core]) {
      core.on('upload', this.onupload)
      core.on('peer-add', this.onpeers)
      core.on('peer-remove', this.onpeers)
      core.on('verification-error', this.onbadblock)
    }
    this.timer = setInterval(() => this.update(), 250)
    this.update()
  }

  private readonly ondownload = (index: number, bytes: number): void => {
    this.fetchedBlocks++
    this.fetchedBytes += bytes
    this.down.add(bytes)
    if (index < this.total && this.have[index] === 0) {
      this.have[index] = 1
      this.haveCount++
      this.haveBytes += this.sizes[index]!
      // at once, not on the next repaint: the spec reloads the page on the first new block
      document.body.dataset.blocks = String(this.haveCount)
    }
  }

  private readonly onupload = (_index: number, bytes: number): void => {
    this.uploaded += bytes
    this.up.add(bytes)
  }

  private readonly onpeers = (): void => { this.update() }

  /** A core refused a block whose proof or signature did not check out (and dropped that peer). */
  private readonly onbadblock = (): void => {
    notice('A peer sent data that does not match the writer’s signature. It was refused and nothing of it was stored; the download goes on with the other peers.', 'warn', 'bad-block')
  }

  /** Connected peers that have this drive (its file list or its contents). */
  private peerCount (): number {
    return Math.max(this.drive.core.peers.length, this.blobs.peers.length)
  }

  /** Peer count changes: 'peer gone' when the last one leaves before we have everything. */
  private checkPeers (n: number): void {
    const reason = $('notice').dataset.reason
    if (n > 0) {
      this.hadPeer = true
      if (reason === 'peer-gone' || reason === 'no-peers') notice(null)
    } else if (this.hadPeer && !this.complete && !this.drive.writable && reason !== 'peer-gone') {
      notice('The peer you were downloading from left. What you have is kept; the download continues as soon as someone sharing this dataset comes back.', 'warn', 'peer-gone')
    }
    this.checkBlobs()
  }

  /**
   * Peers that have the drive's file list but none that has its contents (the blobs core): a
   * reader cannot get the files, however long it waits on those peers. Said after a while, and
   * taken back as soon as a peer brings the blobs core.
   */
  private checkBlobs (): void {
    if (this.drive.writable || this.complete) return
    const reason = $('notice').dataset.reason
    // A peer on the blobs core that has none of it (another reader who just opened the link)
    // says its length is 0: only peers with a length can send anything.
    const withFiles = this.blobs.peers.filter(p => p.remoteLength > 0).length
    if (this.drive.core.peers.length > 0 && withFiles === 0) {
      const now = Date.now()
      if (this.noBlobsSince === 0) this.noBlobsSince = now
      else if (now - this.noBlobsSince >= NO_BLOBS_AFTER && reason !== 'no-blobs') {
        notice('The file list arrived, but none of the connected peers has the files themselves (this drive’s blobs core): a peer with the list only cannot send them. What you have is kept; the download starts by itself when someone who has the files comes online.', 'warn', 'no-blobs')
      }
    } else {
      this.noBlobsSince = 0
      if (reason === 'no-blobs') notice(null)
    }
  }

  /** Fetches every block of the contents (the range resumes from what IndexedDB holds). */
  downloadAll (): void {
    if (this.complete || this.range !== null || this.drive.writable) return
    localStorage.setItem(wantKey(this.id), 'all')
    const range = this.blobs.download({ start: 0, end: this.total })
    this.range = range
    range.done().then((completed) => {
      if (this.range === range) this.range = null
      if (completed) this.finish() // false: paused (destroyed) or the core closed
    }, (err: unknown) => {
      if (this.range === range) this.range = null
      this.reportFailure(err)
    })
    this.watchStall(range)
    this.update()
  }

  pause (): void {
    localStorage.setItem(wantKey(this.id), 'paused')
    this.range?.destroy()
    this.range = null
    for (const r of this.fileRanges) r.destroy()
    this.fileRanges.clear()
    this.update()
  }

  private async getFile (file: DriveFile): Promise<void> {
    const range = this.blobs.download(fileRange(file))
    this.fileRanges.add(range)
    this.watchStall(range)
    this.update()
    try { await range.done() } catch (err) { this.reportFailure(err) }
    this.fileRanges.delete(range)
    this.update()
  }

  /** A range ended without its blocks: say why, unless the user paused it (REQUEST_CANCELLED). */
  private reportFailure (err: unknown): void {
    if (this.closed || HypercoreError.is(err, 'REQUEST_CANCELLED') || HypercoreError.is(err, 'SESSION_CLOSED')) return
    const e = explain(err)
    notice(e.text, 'error', e.reason)
  }

  /**
   * A range fails with the storage error when a block cannot be stored (a full disk); as a
   * safety net for anything else that stalls, when nothing arrives for a while although peers
   * with the contents are there, ask for the first missing block directly, which rejects with
   * its error.
   */
  private watchStall (range: { done (): Promise<boolean> }): void {
    let last = -1
    let finished = false
    range.done().then(() => { finished = true }, () => { finished = true })
    const tick = (): void => {
      if (finished || this.closed) return
      if (this.fetchedBlocks === last && this.blobs.peers.length > 0) {
        const missing = this.have.indexOf(0)
        if (missing >= 0) {
          this.blobs.get(missing, { timeout: 8000 }).catch((err: unknown) => {
            if (finished) return
            const e = explain(err)
            if (e.reason !== 'error') notice(e.text, 'error', e.reason)
          })
        }
      }
      last = this.fetchedBlocks
      setTimeout(tick, 2000)
    }
    setTimeout(tick, 2000)
  }

  finish (): void {
    this.update()
    if (!this.complete) return
    notice(`Complete: all ${this.total} blocks of the files are here, each verified against the writer's signed Merkle tree. Save them below, one by one or all at once; while this tab is open it shares them with other readers too.`, 'ok', 'complete')
  }

  private async save (file: DriveFile): Promise<void> {
    try {
      const blocks = await readFileBlocks(this.blobs, file)
      download(blobOf(blocks, file.type || 'application/octet-stream'), baseName(file.path))
    } catch (err) {
      const e = explain(err)
      notice(e.text, 'error', e.reason)
    }
  }

  /** Every file in one .zip that keeps the drive's paths. */
  private async saveAll (): Promise<void> {
    const btn = $<HTMLButtonElement>('btn-save-all')
    btn.disabled = true
    try {
      const entries = []
      for (const file of this.files) entries.push({ path: file.path, modified: file.modified, parts: await readFileBlocks(this.blobs, file) })
      download(blobOf(zipParts(entries), 'application/zip'), zipName(this.info.name))
    } catch (err) {
      const e = explain(err)
      notice(e.text, 'error', e.reason)
    } finally {
      btn.disabled = false
    }
  }

  update (): void {
    if (this.closed) return
    const total = this.total
    const peers = this.peerCount()
    this.checkPeers(peers)
    const pct = total === 0 ? 100 : Math.floor(this.haveCount / total * 100)
    const bar = $<HTMLProgressElement>('overall')
    bar.max = Math.max(1, total)
    bar.value = total === 0 ? 1 : this.haveCount
    $('stat-blocks').textContent = `${this.haveCount} / ${total}`
    $('stat-bytes').textContent = `${formatBytes(Math.round(this.haveBytes))} / ${formatBytes(this.bytes)}`
    $('stat-down').textContent = `${formatBytes(Math.round(this.down.rate()))}/s`
    $('stat-up').textContent = `${formatBytes(Math.round(this.up.rate()))}/s`
    $('stat-peers').textContent = String(peers)
    $('stat-fetched').textContent = `${this.fetchedBlocks} (${formatBytes(this.fetchedBytes)})`
    $('stat-uploaded').textContent = formatBytes(this.uploaded)
    $('stat-resumed').textContent = `${this.haveAtOpen} block${this.haveAtOpen === 1 ? '' : 's'}`
    document.body.dataset.role = this.drive.writable ? 'writer' : 'reader'
    $('overall-pct').textContent = `${pct}%`
    const role = this.drive.writable ? 'Sharing' : this.complete ? 'Complete · seeding' : this.range !== null || this.fileRanges.size > 0 ? 'Downloading' : 'Paused'
    const badge = $('ds-role')
    badge.textContent = role
    badge.dataset.role = role.split(' ')[0]!.toLowerCase()
    document.body.dataset.complete = String(this.complete)
    document.body.dataset.blocks = String(this.haveCount)
    document.body.dataset.fetched = String(this.fetchedBlocks)
    document.body.dataset.haveAtOpen = String(this.haveAtOpen)
    const downloading = this.range !== null
    $<HTMLButtonElement>('btn-download').hidden = this.complete || downloading || this.drive.writable
    $<HTMLButtonElement>('btn-pause').hidden = !(downloading || this.fileRanges.size > 0)
    $<HTMLButtonElement>('btn-save-all').hidden = !this.complete || this.files.length === 0
    for (const r of this.rows) {
      let n = 0
      for (let i = r.file.block; i < r.file.block + r.file.blocks; i++) n += this.have[i]!
      r.bar.value = r.file.blocks === 0 ? 1 : n
      const done = n === r.file.blocks
      r.status.textContent = done ? (this.drive.writable ? '✓ shared' : '✓ verified') : `${n} / ${r.file.blocks} blocks`
      r.status.className = `file-status${done ? ' done' : ''}`
      r.save.disabled = !done
      r.get.hidden = done || this.drive.writable || downloading
    }
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.range?.destroy()
    for (const r of this.fileRanges) r.destroy()
    this.blobs.off('download', this.ondownload)
    for (const core of [this.blobs, this.drive.core]) {
      core.off('upload', this.onupload)
      core.off('peer-add', this.onpeers)
      core.off('peer-remove', this.onpeers)
      core.off('verification-error', this.onbadblock)
    }
  }
}

/**
 * Blobs of 16 MiB, then one Blob of those: the browser may keep large Blobs on disk instead of
 * holding a big file as one piece of memory.
 */
function blobOf (parts: Uint8Array[], type: string): Blob {
  const pieces: Blob[] = []
  for (let i = 0; i < parts.length; i += 256) pieces.push(new Blob(parts.slice(i, i + 256) as BlobPart[]))
  return new Blob(pieces, { type })
}

function download (blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const a = h('a', { href: url, download: name })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** The dataset's name as a file name: no path separators or characters systems refuse. */
function zipName (name: string): string {
  const clean = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').replace(/^[.\s]+|[.\s]+$/g, '').slice(0, 100)
  return (clean === '' ? 'dataset' : clean) + '.zip'
}

/** A short label for the file's kind, shown in a coloured tile (no emoji: not every system has the font). */
function icon (file: DriveFile): string {
  const dot = file.path.lastIndexOf('.')
  const ext = dot > file.path.lastIndexOf('/') ? file.path.slice(dot + 1) : ''
  return (ext !== '' ? ext : file.type.split('/')[0] || 'file').slice(0, 4).toUpperCase()
}
