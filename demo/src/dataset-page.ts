/**
 * @module demo/dataset-page
 * The "share a dataset" page (demo/index.html). Without a hash: pick files or a folder, write
 * them into a new Hyperdrive (hyperdrive@11) on a Corestore in IndexedDB (demo/src/drive.ts),
 * show the share link (`#<drive key>`), seed. With `#<id>`: open that drive (from IndexedDB
 * if this browser has some of it), find peers, fetch its file list, show the files, download
 * with progress, save each file or all of them. `?paused` opens a link without starting the
 * download.
 */
import { Corestore } from '../../src/store/index.js'
import { discoveryKey } from '../../src/crypto/hash.js'
import { equalBytes, randomBytes } from '../../src/crypto/index.js'
import { HypercoreError } from '../../src/errors.js'
import { deleteDatabase } from '../../src/storage/indexeddb/connection.js'
import { checkDriveHeader, driveKeyFor, listFiles, loadHyperdrive, planFiles, readInfo, writeDrive, type DatasetInfo, type DriveFile, type FileSource, type Hyperdrive, type HyperdriveClass } from './drive.js'
import { DatasetView } from './dataset-view.js'
import { dbName, forget, keep, keptDatasets, wantKey } from './kept.js'
import { openFreeCopy } from './tab-copies.js'
import { parseLink, shareLink } from './link.js'
import { Network, loadConfig, storeTarget } from './network.js'
import { $, askPersist, explain, formatBytes, h, notice, showStorage, storageFacts } from './ui.js'

/** The open dataset: its store, and its drive once block 0 showed the key is one. */
interface Current { store: Corestore, drive: Hyperdrive | null, view: DatasetView | null, leave: () => void }

let network: Network | null = null
let HyperdriveCtor: HyperdriveClass | null = null
let current: Current | null = null
let picked: File[] = []

async function main (): Promise<void> {
  network = new Network(await loadConfig())
  // Closing the tab closes its connections cleanly, so peers see it go at once (not after
  // their idle timeout).
  addEventListener('pagehide', () => network?.destroy())
  $('net-state').title = `network: ${network.kind}`
  network.onState(s => { $('net-state').textContent = s === 'online' ? 'online' : s === 'offline' ? 'offline — retrying' : 'connecting…'; $('net-state').dataset.state = s })
  HyperdriveCtor = await loadHyperdrive()
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
  if (c.drive !== null) await c.drive.close().catch(() => {}) // closes its store too
  else await c.store.close().catch(() => {})
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
  for (const id of ['pick-files', 'pick-folder']) {
    const input = $<HTMLInputElement>(id)
    input.onchange = () => onPick(input)
    // Files picked while the page was still loading (before this ran) are not lost.
    if ((input.files?.length ?? 0) > 0) onPick(input)
  }
  $('share-form').onsubmit = e => { e.preventDefault(); void share() }
}

async function share (): Promise<void> {
  const files = picked
  if (files.length === 0 || HyperdriveCtor === null) return
  const name = $<HTMLInputElement>('ds-title').value.trim() || files[0]!.name
  const sources: FileSource[] = files.map(f => ({
    path: f.webkitRelativePath !== '' ? f.webkitRelativePath : f.name,
    size: f.size,
    type: f.type,
    modified: f.lastModified,
    read: async (s, e) => new Uint8Array(await f.slice(s, e).arrayBuffer())
  }))
  let plan: ReturnType<typeof planFiles>
  try { plan = planFiles(sources) } catch (err) { notice(explain(err).text, 'error', 'bad-files'); return }
  const facts = await storageFacts()
  if (facts.quota > 0 && plan.bytes > facts.quota - facts.usage) {
    notice(explain(HypercoreError.STORAGE_QUOTA()).text + ` (needs ${formatBytes(plan.bytes)}, ${formatBytes(facts.quota - facts.usage)} free)`, 'error', 'quota')
    return
  }
  const btn = $<HTMLButtonElement>('btn-share')
  btn.disabled = true
  const bar = $<HTMLProgressElement>('write-progress')
  bar.hidden = false
  bar.max = Math.max(1, plan.bytes)
  // A new store with a fresh primary key: its drive's key names the database, so this
  // browser finds the drive by the link as any reader does (no other tab has it yet).
  const primaryKey = randomBytes(32)
  const key = await driveKeyFor(HyperdriveCtor, primaryKey)
  const store = new Corestore(dbName(key), { primaryKey })
  const drive = new HyperdriveCtor(store)
  const info: DatasetInfo = { name, created: Date.now() }
  try {
    await drive.ready()
    if (!equalBytes(drive.key, key)) throw HypercoreError.ASSERTION('the drive did not get the key its store was made for')
    await writeDrive(drive, info, sources, { onProgress: b => { bar.value = b; $('write-status').textContent = `Writing into IndexedDB: ${formatBytes(b)} of ${formatBytes(plan.bytes)}` } })
  } catch (err) {
    const e = explain(err)
    notice(e.text, 'error', e.reason)
    await drive.close().catch(() => {})
    await deleteDatabase(dbName(key)).catch(() => {})
    btn.disabled = false
    return
  } finally {
    bar.hidden = true
    $('write-status').textContent = ''
  }
  keep({ id: drive.id, name, files: sources.length, bytes: plan.bytes, role: 'shared', added: Date.now() })
  void askPersist().then(() => showStorage($('storage')))
  history.pushState(null, '', shareLink(location.href, key))
  $('share').hidden = true
  $('dataset').hidden = false
  current = { store, drive, view: null, leave: network!.join(storeTarget(store, drive.discoveryKey)) }
  await show(current, await listFiles(drive), info)
  renderKept()
}

// --- opening a link ------------------------------------------------------------------------

async function openDataset (key: Uint8Array, id: string): Promise<void> {
  $('ds-name').textContent = 'Opening…'
  $('ds-summary').textContent = ''
  $('ds-cores').textContent = ''
  $('dataset').classList.add('waiting')
  $('dataset').classList.remove('failed')
  $('ds-role').textContent = 'Connecting'
  $('ds-role').dataset.role = 'paused'
  $('waiting-text').textContent = 'Looking for browsers that have this dataset…'
  $('file-list').replaceChildren()
  setLink(key)
  // Another tab of this browser may have it open: then this tab keeps its own copy (its own
  // store) and fetches from that tab like from any peer (tab-copies.ts).
  const { core: store, copy } = await openFreeCopy(dbName(key), name => new Corestore(name))
  const me: Current = { store, drive: null, view: null, leave: network!.join(storeTarget(store, discoveryKey(key))) }
  current = me
  const otherTab = copy > 1 ? 'This dataset is also open in another tab of this browser. This tab keeps its own copy and fetches it from that tab (they find each other over BroadcastChannel).' : ''
  let files: DriveFile[]
  let info: DatasetInfo
  // The drive's db core (hyperdrive opens the same core): block 0 first, to tell a drive.
  const db = store.get({ key })
  try {
    await db.ready()
    if (!(await db.has(0))) {
      $('ds-name').textContent = 'Looking for peers…'
      $('ds-summary').textContent = 'The file list comes from the first browser that has this dataset.'
      const slow = setTimeout(() => {
        if (current === me && db.peers.length === 0) notice('No peers yet: nobody who has this dataset is online right now. Keep this tab open — it connects by itself as soon as someone sharing it appears.', 'warn', 'no-peers')
      }, 4000)
      // A download range waits for a peer that has the block, however late it connects.
      await db.download({ start: 0, end: 1 }).done().finally(() => clearTimeout(slow))
      if (current !== me) return
      if ($('notice').dataset.reason === 'no-peers') notice(null)
    }
    // Block 0 tells whether the key is a drive at all (and names its blobs core).
    await checkDriveHeader(db)
    const drive = new HyperdriveCtor!(store, key)
    me.drive = drive
    await drive.ready()
    // The whole file list (the drive's db core, a few blocks): shown offline after a reload,
    // and seeded to other readers with the files.
    $('waiting-text').textContent = 'Fetching the file list…'
    await drive.core.download({ start: 0, end: drive.core.length }).done()
    if (current !== me) return
    files = await listFiles(drive)
    info = await readInfo(drive, { wait: false }) ?? { name: defaultName(files), created: 0 }
  } catch (err) {
    if (current !== me) return
    const e = explain(err)
    notice(e.text, 'error', e.reason)
    $('ds-name').textContent = e.reason === 'not-drive' ? 'Not a shared folder' : 'Cannot open this dataset'
    $('ds-summary').textContent = ''
    $('ds-role').textContent = 'Cannot open'
    $('ds-role').dataset.role = 'error'
    $('waiting-text').textContent = e.reason === 'not-drive' ? 'Nothing to download from this link.' : 'Reload the page to try again.'
    $('dataset').classList.add('failed')
    return
  } finally {
    await db.close().catch(() => {})
  }
  const drive = me.drive!
  if (current !== me) return
  if (otherTab !== '') notice(otherTab, 'info', 'other-tab')
  if (!drive.writable && !keptDatasets().some(d => d.id === id)) {
    keep({ id, name: info.name, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), role: 'received', added: Date.now() })
    renderKept()
    void askPersist().then(() => showStorage($('storage')))
  }
  await show(me, files, info)
}

async function show (me: Current, files: DriveFile[], info: DatasetInfo): Promise<void> {
  const drive = me.drive!
  const blobs = await drive.getBlobs()
  if (current !== me) return
  if (blobs === null) { notice('This drive has no files yet.', 'warn', 'empty'); return }
  const view = await DatasetView.open(drive, blobs.core, files, info, drive.id)
  if (current !== me) { view.close(); return }
  $('dataset').classList.remove('waiting')
  me.view = view
  setLink(drive.key)
  if (view.haveAtOpen > 0 && !view.complete && !drive.writable) notice(`Resumed: ${view.haveAtOpen} of the files’ blocks were already in this browser; only the rest is fetched.`, 'info', 'resumed')
  if (view.complete && !drive.writable) view.finish()
  const want = localStorage.getItem(wantKey(drive.id))
  const paused = new URLSearchParams(location.search).has('paused')
  if (!drive.writable && !view.complete && (want === 'all' || (want === null && !paused))) view.downloadAll()
}

function setLink (key: Uint8Array): void {
  const link = shareLink(location.href, key)
  ;($('share-link') as HTMLInputElement).value = link
  $('fetch-command').textContent = `npm run demo:fetch -- '${link}' ./${fetchFolder()}`
}

/** The folder name the fetch hint suggests: the dataset's name once known. */
function fetchFolder (): string {
  const name = $('ds-name').textContent ?? ''
  const clean = name.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 40)
  return clean === '' || clean === 'Opening' ? 'dataset' : clean
}

/** A name for a drive made by something else than this demo: its top folder, or 'Shared files'. */
function defaultName (files: DriveFile[]): string {
  const tops = new Set(files.map(f => f.path.split('/')[0]))
  return tops.size === 1 && files.some(f => f.path.includes('/')) ? [...tops][0]! : 'Shared files'
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
      if (current !== null && current.drive?.id === d.id) { await closeCurrent(); history.pushState(null, '', location.pathname); await route() }
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
