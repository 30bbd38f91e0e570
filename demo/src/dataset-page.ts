/**
 * @module demo/dataset-page
 * The "share a dataset" page (demo/index.html). Without a hash: pick files or a folder, write
 * them into a new Hypercore in IndexedDB (demo/src/dataset.ts), show the share link, seed.
 * With `#<id>`: open that dataset (from IndexedDB if this browser has some of it), find
 * peers, show the files, download with progress, save each file. `?paused` opens a link
 * without starting the download.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { cryptoReady, keyPair } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { decodeIndex, planDataset, writeDataset, type DatasetIndex, type FileSource } from './dataset.js'
import { DatasetView } from './dataset-view.js'
import { dbName, forget, keep, keptDatasets, wantKey } from './kept.js'
import { openFreeCopy } from './tab-copies.js'
import { parseLink, shareLink } from './link.js'
import { Network, loadConfig } from './network.js'
import { $, askPersist, explain, formatBytes, h, notice, showStorage, storageFacts } from './ui.js'

let network: Network | null = null
let current: { core: Hypercore, view: DatasetView | null, leave: () => void } | null = null
let picked: File[] = []

async function main (): Promise<void> {
  network = new Network(await loadConfig())
  // Closing the tab closes its connections cleanly, so peers see it go at once (not after
  // their idle timeout).
  addEventListener('pagehide', () => network?.destroy())
  $('net-state').title = `network: ${network.kind}`
  network.onState(s => { $('net-state').textContent = s === 'online' ? 'online' : s === 'offline' ? 'offline — retrying' : 'connecting…'; $('net-state').dataset.state = s })
  wireShareForm()
  renderKept()
  void showStorage($('storage'))
  setInterval(() => { void showStorage($('storage')) }, 5000)
  addEventListener('hashchange', () => { void route() })
  await route()
  document.body.dataset.ready = 'true'
}

async function route (): Promise<void> {
  await closeCurrent()
  notice(null)
  const link = parseLink(location.hash)
  $('share').hidden = link.kind === 'key'
  $('dataset').hidden = link.kind !== 'key'
  if (link.kind === 'bad') { notice(link.reason, 'error', 'bad-link'); return }
  if (link.kind === 'key') await openDataset(link.key, link.id)
}

async function closeCurrent (): Promise<void> {
  if (current === null) return
  const c = current
  current = null
  c.view?.close()
  c.leave()
  await c.core.close()
}

// --- sharing -------------------------------------------------------------------------------

function wireShareForm (): void {
  const onPick = (input: HTMLInputElement): void => {
    picked = Array.from(input.files ?? [])
    const bytes = picked.reduce((n, f) => n + f.size, 0)
    $('picked').textContent = picked.length === 0 ? 'Nothing picked yet.' : `${picked.length} file${picked.length === 1 ? '' : 's'}, ${formatBytes(bytes)}`
    const first = picked[0]
    const folder = first?.webkitRelativePath.split('/')[0]
    if ($<HTMLInputElement>('ds-title').value === '' && first !== undefined) $<HTMLInputElement>('ds-title').value = folder !== undefined && folder !== '' ? folder : first.name
    $<HTMLButtonElement>('btn-share').disabled = picked.length === 0
  }
  $<HTMLInputElement>('pick-files').onchange = e => onPick(e.target as HTMLInputElement)
  $<HTMLInputElement>('pick-folder').onchange = e => onPick(e.target as HTMLInputElement)
  $('share-form').onsubmit = e => { e.preventDefault(); void share() }
}

async function share (): Promise<void> {
  const files = picked
  if (files.length === 0) return
  const name = $<HTMLInputElement>('ds-title').value.trim() || files[0]!.name
  const sources: FileSource[] = files.map(f => ({
    path: f.webkitRelativePath !== '' ? f.webkitRelativePath : f.name,
    size: f.size,
    type: f.type,
    modified: f.lastModified,
    read: async (s, e) => new Uint8Array(await f.slice(s, e).arrayBuffer())
  }))
  let index: DatasetIndex
  try { index = planDataset(name, sources) } catch (err) { notice(explain(err).text, 'error', 'bad-files'); return }
  const facts = await storageFacts()
  if (facts.quota > 0 && index.bytes > facts.quota - facts.usage) {
    notice(explain(HypercoreError.STORAGE_QUOTA()).text + ` (needs ${formatBytes(index.bytes)}, ${formatBytes(facts.quota - facts.usage)} free)`, 'error', 'quota')
    return
  }
  const btn = $<HTMLButtonElement>('btn-share')
  btn.disabled = true
  const bar = $<HTMLProgressElement>('write-progress')
  bar.hidden = false
  bar.max = Math.max(1, index.bytes)
  await cryptoReady()
  const kp = keyPair()
  const core = new Hypercore(dbName(kp.publicKey), { keyPair: kp }) // a fresh key: no other tab has it
  try {
    await core.ready()
    await writeDataset(core, index, sources, { onProgress: b => { bar.value = b; $('write-status').textContent = `Writing into IndexedDB: ${formatBytes(b)} of ${formatBytes(index.bytes)}` } })
  } catch (err) {
    const e = explain(err)
    notice(e.text, 'error', e.reason)
    await core.purge().catch(() => {})
    btn.disabled = false
    return
  } finally {
    bar.hidden = true
    $('write-status').textContent = ''
  }
  keep({ id: core.id!, name, files: index.files.length, bytes: index.bytes, role: 'shared', added: Date.now() })
  void askPersist().then(() => showStorage($('storage')))
  history.pushState(null, '', shareLink(location.href, core.key!))
  $('share').hidden = true
  $('dataset').hidden = false
  await show(core, index, core.id!, true)
  renderKept()
}

// --- opening a link ------------------------------------------------------------------------

async function openDataset (key: Uint8Array, id: string): Promise<void> {
  $('ds-name').textContent = 'Opening…'
  $('ds-summary').textContent = ''
  $('dataset').classList.add('waiting')
  $('ds-role').textContent = 'Connecting'
  $('ds-role').dataset.role = 'paused'
  $('file-list').replaceChildren()
  $('share-link').setAttribute('value', shareLink(location.href, key))
  // Another tab of this browser may have it open: then this tab keeps its own copy and
  // fetches from that tab like from any peer (tab-copies.ts).
  const { core, copy } = await openFreeCopy(dbName(key), name => new Hypercore(name, key))
  const leave = network!.join(core)
  const me = { core, view: null as DatasetView | null, leave }
  current = me
  const otherTab = copy > 1 ? 'This dataset is also open in another tab of this browser. This tab keeps its own copy and fetches it from that tab (they find each other over BroadcastChannel). ' : ''
  let index: DatasetIndex
  const indexWasHere = await core.has(0)
  try {
    if (!indexWasHere) {
      $('ds-name').textContent = 'Looking for peers…'
      $('ds-summary').textContent = 'The file list comes from the first browser that has this dataset.'
      const slow = setTimeout(() => {
        if (current === me && core.peers.length === 0) notice('No peers yet: nobody who has this dataset is online right now. Keep this tab open — it connects by itself as soon as someone sharing it appears.', 'warn', 'no-peers')
      }, 4000)
      // A range, not a bare get(0): a get() made before the first connection never asks
      // peers that connect later (the core has no replicator yet), a download range does.
      const first = core.download({ start: 0, end: 1 })
      await first.done().finally(() => clearTimeout(slow))
      const block = await core.get(0)
      index = decodeIndex(block as Uint8Array)
      notice(null)
      if (otherTab !== '') notice(otherTab.trim(), 'info', 'other-tab')
    } else {
      index = decodeIndex(await core.get(0) as Uint8Array)
    }
  } catch (err) {
    if (current !== me) return
    const e = explain(err)
    notice(e.text, 'error', e.reason)
    $('waiting-text').textContent = 'Cannot open this dataset.'
    return
  }
  if (current !== me) return
  if (!core.writable && !keptDatasets().some(d => d.id === id)) {
    keep({ id, name: index.name, files: index.files.length, bytes: index.bytes, role: 'received', added: Date.now() })
    renderKept()
    void askPersist().then(() => showStorage($('storage')))
  }
  await show(core, index, id, indexWasHere)
}

async function show (core: Hypercore, index: DatasetIndex, id: string, indexWasHere = true): Promise<void> {
  if (current === null || current.core !== core) {
    await closeCurrent()
    current = { core, view: null, leave: network!.join(core) }
  }
  $('share-link').setAttribute('value', shareLink(location.href, core.key!))
  ;($('share-link') as HTMLInputElement).value = shareLink(location.href, core.key!)
  const view = await DatasetView.open(core, index, id, indexWasHere)
  $('dataset').classList.remove('waiting')
  current.view = view
  if (view.haveAtOpen > 0 && !view.complete && !core.writable) notice(`Resumed: ${view.haveAtOpen} of ${index.length} blocks were already in this browser; only the rest is fetched.`, 'info', 'resumed')
  if (view.complete && !core.writable) view.finish()
  const want = localStorage.getItem(wantKey(id))
  const paused = new URLSearchParams(location.search).has('paused')
  if (!core.writable && !view.complete && (want === 'all' || (want === null && !paused))) view.downloadAll()
}

// --- kept datasets -------------------------------------------------------------------------

function renderKept (): void {
  const list = $('kept-list')
  const items = keptDatasets()
  $('kept').hidden = items.length === 0
  list.replaceChildren(...items.map(d => {
    const link = parseLink('#' + d.id)
    const open = h('a', { href: '#' + d.id }, d.name)
    const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${d.name}` }, 'Delete')
    del.onclick = async () => {
      if (link.kind !== 'key') return
      if (current?.core.id === d.id) { await closeCurrent(); history.pushState(null, '', location.pathname); await route() }
      await forget(d.id, link.key)
      renderKept()
      void showStorage($('storage'))
    }
    return h('li', {}, h('span', { class: 'kept-role', 'data-role': d.role }, d.role === 'shared' ? 'shared' : 'received'), open,
      h('span', { class: 'muted' }, `${d.files} file${d.files === 1 ? '' : 's'} · ${formatBytes(d.bytes)}`), del)
  }))
}

$('btn-copy').onclick = async () => {
  const input = $<HTMLInputElement>('share-link')
  input.select()
  try { await navigator.clipboard.writeText(input.value); $('btn-copy').textContent = 'Copied' } catch { document.execCommand('copy') }
  setTimeout(() => { $('btn-copy').textContent = 'Copy link' }, 1500)
}

main().catch(err => { const e = explain(err); notice(e.text, 'error', e.reason) })
