/**
 * @module demo/dataset-view
 * One open dataset on the page: its file list with a progress bar per file, the totals
 * (blocks, bytes, rate, peers, uploaded), download / pause, saving each file as a Blob, and
 * the messages a person needs (looking for peers, no peers yet, peer gone, storage full).
 * The same view serves the person who shared the dataset (seeding) and a reader.
 */
import type { Hypercore } from '../../src/core/hypercore.js'
import { HypercoreError } from '../../src/errors.js'
import { baseName, fileRange, readFileBlocks, type DatasetFile, type DatasetIndex } from './dataset.js'
import { wantKey } from './kept.js'
import { $, explain, formatBytes, h, notice, RateMeter } from './ui.js'

interface Row { file: DatasetFile, bar: HTMLProgressElement, status: HTMLElement, save: HTMLButtonElement, get: HTMLButtonElement }

export class DatasetView {
  private readonly have: Uint8Array
  private haveCount = 0
  private haveBytes = 0
  /** Blocks already stored when the page opened the dataset (a resume shows it). */
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
  private closed = false

  /**
   * `indexWasHere`: block 0 was stored before this visit (a reload) rather than fetched just
   * now to open the dataset; it counts as already here, or as fetched this visit.
   */
  constructor (readonly core: Hypercore, readonly index: DatasetIndex, have: Uint8Array, private readonly id: string, indexWasHere: boolean) {
    this.have = have
    // Block 0 (the index) counts as a block like the others: the totals are the core's.
    for (let i = 0; i < index.length; i++) if (have[i] === 1) { this.haveCount++; this.haveBytes += this.blockBytes(i) }
    this.haveAtOpen = indexWasHere ? this.haveCount : this.haveCount - 1
    if (!indexWasHere) { this.fetchedBlocks = 1; this.fetchedBytes = this.blockBytes(0) }
  }

  /** Reads which blocks are stored already (from IndexedDB), then builds the view. */
  static async open (core: Hypercore, index: DatasetIndex, id: string, indexWasHere: boolean): Promise<DatasetView> {
    const have = new Uint8Array(index.length)
    // Everything below the contiguous length is stored: only the rest is asked block by block.
    const contiguous = Math.min(core.contiguousLength, index.length)
    have.fill(1, 0, contiguous)
    for (let i = contiguous; i < index.length; i++) have[i] = (await core.has(i)) ? 1 : 0
    const view = new DatasetView(core, index, have, id, indexWasHere)
    view.render()
    return view
  }

  get complete (): boolean { return this.haveCount === this.index.length }

  private render (): void {
    const { index } = this
    $('ds-name').textContent = index.name
    $('ds-summary').textContent = `${index.files.length} file${index.files.length === 1 ? '' : 's'} · ${formatBytes(index.bytes)} · ${index.length} blocks of up to ${formatBytes(index.blockSize)}`
    const list = $('file-list')
    list.replaceChildren()
    for (const file of index.files) {
      const bar = h('progress', { max: String(Math.max(1, file.blocks)), value: '0', 'aria-label': `${file.path} progress` }) as HTMLProgressElement
      const status = h('span', { class: 'file-status' })
      const save = h('button', { type: 'button', class: 'small primary', disabled: '' }, 'Save') as HTMLButtonElement
      const get = h('button', { type: 'button', class: 'small' }, 'Get') as HTMLButtonElement
      save.setAttribute('aria-label', `Save ${file.path}`)
      get.setAttribute('aria-label', `Get ${file.path}`)
      save.onclick = () => { void this.save(file) }
      get.onclick = () => { void this.getFile(file) }
      const li = h('li', { class: 'file', 'data-path': file.path },
        h('div', { class: 'file-name' }, h('span', { class: 'file-icon', 'aria-hidden': 'true', 'data-kind': file.type.split('/')[0] ?? '' }, icon(file)), h('span', { title: file.path }, file.path)),
        h('span', { class: 'file-size' }, formatBytes(file.size)),
        bar, status, h('div', { class: 'file-actions' }, get, save))
      list.append(li)
      this.rows.push({ file, bar, status, save, get })
    }
    $('btn-download').onclick = () => this.downloadAll()
    $('btn-pause').onclick = () => this.pause()
    this.core.on('download', this.ondownload)
    this.core.on('upload', this.onupload)
    this.core.on('peer-add', this.onpeers)
    this.core.on('peer-remove', this.onpeers)
    this.core.on('verification-error', this.onbadblock)
    this.timer = setInterval(() => this.update(), 250)
    this.update()
  }

  private readonly ondownload = (index: number, bytes: number): void => {
    this.fetchedBlocks++
    this.fetchedBytes += bytes
    this.down.add(bytes)
    if (index < this.have.length && this.have[index] === 0) {
      this.have[index] = 1
      this.haveCount++
      this.haveBytes += this.blockBytes(index)
    }
  }

  private readonly onupload = (_index: number, bytes: number): void => {
    this.uploaded += bytes
    this.up.add(bytes)
  }

  private readonly onpeers = (): void => { this.update() }

  /** The core refused a block whose proof or signature did not check out (and dropped that peer). */
  private readonly onbadblock = (): void => {
    notice('A peer sent data that does not match the writer’s signature. It was refused and nothing of it was stored; the download goes on with the other peers.', 'warn', 'bad-block')
  }

  /** Peer count changes: 'peer gone' when the last one leaves before we have everything. */
  private checkPeers (n: number): void {
    if (n > 0) {
      this.hadPeer = true
      const reason = $('notice').dataset.reason
      if (reason === 'peer-gone' || reason === 'no-peers') notice(null)
    } else if (this.hadPeer && !this.complete && !this.core.writable && $('notice').dataset.reason !== 'peer-gone') {
      notice('The peer you were downloading from left. What you have is kept; the download continues as soon as someone sharing this dataset comes back.', 'warn', 'peer-gone')
    }
  }

  /** Fetches every block (the range resumes from what IndexedDB holds). */
  downloadAll (): void {
    if (this.complete || this.range !== null || this.core.writable) return
    localStorage.setItem(wantKey(this.id), 'all')
    const range = this.core.download({ start: 1, end: this.index.length })
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

  private async getFile (file: DatasetFile): Promise<void> {
    const range = this.core.download(fileRange(file))
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
   * are there, ask for the first missing block directly, which rejects with its error.
   */
  private watchStall (range: { done (): Promise<boolean> }): void {
    let last = -1
    let finished = false
    range.done().then(() => { finished = true }, () => { finished = true })
    const tick = (): void => {
      if (finished || this.closed) return
      if (this.fetchedBlocks === last && this.core.peers.length > 0) {
        const missing = this.have.indexOf(0, 1)
        if (missing > 0) {
          this.core.get(missing, { timeout: 8000 }).catch((err: unknown) => {
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
    notice(`Complete: all ${this.index.length} blocks are here, each verified against the writer's signed Merkle tree. Save the files below; while this tab is open it shares them with other readers too.`, 'ok', 'complete')
  }

  private async save (file: DatasetFile): Promise<void> {
    try {
      const blocks = await readFileBlocks(this.core, file)
      // Blobs of 16 MiB, then one Blob of those: the browser may keep large Blobs on disk
      // instead of holding a big file as one piece of memory.
      const parts: Blob[] = []
      for (let i = 0; i < blocks.length; i += 256) parts.push(new Blob(blocks.slice(i, i + 256) as BlobPart[]))
      const blob = new Blob(parts, { type: file.type || 'application/octet-stream' })
      const url = URL.createObjectURL(blob)
      const a = h('a', { href: url, download: baseName(file.path) })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
    } catch (err) {
      const e = explain(err)
      notice(e.text, 'error', e.reason)
    }
  }

  update (): void {
    if (this.closed) return
    const total = this.index.length
    const peers = this.core.peers.length
    this.checkPeers(peers)
    const pct = total === 0 ? 100 : Math.floor(this.haveCount / total * 100)
    const bar = $<HTMLProgressElement>('overall')
    bar.max = total
    bar.value = this.haveCount
    $('stat-blocks').textContent = `${this.haveCount} / ${total}`
    $('stat-bytes').textContent = `${formatBytes(this.haveBytes)} / ${formatBytes(this.index.bytes)}`
    $('stat-down').textContent = `${formatBytes(Math.round(this.down.rate()))}/s`
    $('stat-up').textContent = `${formatBytes(Math.round(this.up.rate()))}/s`
    $('stat-peers').textContent = String(peers)
    $('stat-fetched').textContent = `${this.fetchedBlocks} (${formatBytes(this.fetchedBytes)})`
    $('stat-uploaded').textContent = formatBytes(this.uploaded)
    $('stat-resumed').textContent = `${this.haveAtOpen} block${this.haveAtOpen === 1 ? '' : 's'}`
    document.body.dataset.role = this.core.writable ? 'writer' : 'reader'
    $('overall-pct').textContent = `${pct}%`
    const role = this.core.writable ? 'Sharing' : this.complete ? 'Complete · seeding' : this.range !== null || this.fileRanges.size > 0 ? 'Downloading' : 'Paused'
    const badge = $('ds-role')
    badge.textContent = role
    badge.dataset.role = role.split(' ')[0]!.toLowerCase()
    document.body.dataset.complete = String(this.complete)
    document.body.dataset.blocks = String(this.haveCount)
    document.body.dataset.fetched = String(this.fetchedBlocks)
    document.body.dataset.haveAtOpen = String(this.haveAtOpen)
    const downloading = this.range !== null
    $<HTMLButtonElement>('btn-download').hidden = this.complete || downloading || this.core.writable
    $<HTMLButtonElement>('btn-pause').hidden = !(downloading || this.fileRanges.size > 0)
    for (const r of this.rows) {
      let n = 0
      for (let i = r.file.block; i < r.file.block + r.file.blocks; i++) n += this.have[i]!
      r.bar.value = r.file.blocks === 0 ? 1 : n
      const done = n === r.file.blocks
      r.status.textContent = done ? (this.core.writable ? '✓ shared' : '✓ verified') : `${n} / ${r.file.blocks} blocks`
      r.status.className = `file-status${done ? ' done' : ''}`
      r.save.disabled = !done
      r.get.hidden = done || this.core.writable || downloading
    }
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.range?.destroy()
    for (const r of this.fileRanges) r.destroy()
    this.core.off('download', this.ondownload)
    this.core.off('upload', this.onupload)
    this.core.off('peer-add', this.onpeers)
    this.core.off('peer-remove', this.onpeers)
    this.core.off('verification-error', this.onbadblock)
  }

  private blockBytes (i: number): number {
    if (i === 0) return 0 // the index: counted as a block, not as file bytes
    // Files start on their own block; only a file's last block is short. Binary search:
    // files are in block order.
    const files = this.index.files
    let lo = 0
    let hi = files.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const f = files[mid]!
      if (i < f.block) hi = mid - 1
      else if (i >= f.block + f.blocks) lo = mid + 1
      else return Math.min(this.index.blockSize, f.size - (i - f.block) * this.index.blockSize)
    }
    return 0
  }
}

/** A short label for the file's kind, shown in a coloured tile (no emoji: not every system has the font). */
function icon (file: DatasetFile): string {
  const dot = file.path.lastIndexOf('.')
  const ext = dot > file.path.lastIndexOf('/') ? file.path.slice(dot + 1) : ''
  return (ext !== '' ? ext : file.type.split('/')[0] || 'file').slice(0, 4).toUpperCase()
}
