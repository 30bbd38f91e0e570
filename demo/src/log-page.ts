/**
 * @module demo/log-page
 * The offline-first log (demo/log.html, a PWA): this browser's own log is a Hypercore in
 * IndexedDB that takes text entries with or without a network; `log.html#<id>` follows
 * someone's log and shows entries as they arrive (`append` events). The service worker
 * (demo/sw.js) serves the page itself when the server is unreachable; when a peer appears
 * the logs sync.
 */
import { Hypercore } from '../../src/core/hypercore.js'
import { parseLink, shareLink, hex } from './link.js'
import { Network, loadConfig } from './network.js'
import { openFreeCopy } from './tab-copies.js'
import { $, askPersist, explain, h, notice, showStorage } from './ui.js'

interface Entry { text: string, time: number }

const MINE = 'log-mine'
const MY_LOG = 'hypercore-web-demo:my-log'
let core: Hypercore
let rendered = 0
let rendering = false

async function main (): Promise<void> {
  void registerServiceWorker()
  const link = parseLink(location.hash)
  if (link.kind === 'bad') notice(link.reason.replace('dataset key', 'log key'), 'error', 'bad-link')
  // This browser's own log is the database 'log-mine'; its id is remembered so a link to it
  // (or a second tab) is recognised as ours.
  const myId = localStorage.getItem(MY_LOG)
  const own = link.kind !== 'key' || link.id === myId
  const key = own ? parseLink('#' + (myId ?? '')) : link
  let copy: number
  try {
    ({ core, copy } = await openFreeCopy(own ? MINE : 'log-' + hex((link as { key: Uint8Array }).key), (name, main) => {
      // This browser's own log in its main database; otherwise (someone else's log, or ours
      // while another tab holds it) a replica that follows it.
      if (own && main) return new Hypercore(name, { valueEncoding: 'json' })
      if (key.kind !== 'key') throw new Error('no key')
      return new Hypercore(name, key.key, { valueEncoding: 'json' })
    }))
  } catch (err) {
    if ((err as Error).message === 'no key') { notice('Your log is open in another tab that is still creating it: reload this one in a moment.', 'warn', 'other-tab'); return }
    throw err
  }
  if (copy > 1) notice('This log is also open in another tab of this browser: this tab follows it from there (over BroadcastChannel) and shows new entries as they are written.', 'info', 'other-tab')
  if (core.writable) localStorage.setItem(MY_LOG, core.id!)
  const writer = core.writable
  document.body.dataset.role = writer ? 'writer' : 'reader'
  $('log-title').textContent = writer ? 'Your log' : 'Following a log'
  $('log-intro').textContent = writer
    ? 'Write entries with or without a network: they are signed and stored in this browser at once, and reach the people following your log whenever you are both online.'
    : 'Entries appear here as the writer adds them, each checked against the writer’s signature. They stay in this browser, so this page works offline too.'
  $('composer').hidden = !writer
  const url = shareLink(location.href, core.key!)
  $<HTMLInputElement>('log-link').value = url
  if (writer && link.kind !== 'key') history.replaceState(null, '', url)
  if (!writer && own) $('log-title').textContent = 'Your log (from another tab)'

  const network = new Network(await loadConfig())
  addEventListener('pagehide', () => network.destroy())
  const netState = (): void => {
    const s = network.state
    $('net-state').textContent = !navigator.onLine ? 'offline' : s === 'online' ? 'online' : s === 'offline' ? 'offline — retrying' : 'connecting…'
    $('net-state').dataset.state = navigator.onLine ? s : 'offline'
    if (!navigator.onLine) notice(writer ? 'You are offline. Keep writing: entries are signed and kept in this browser, and reach your readers when you are both online again.' : 'You are offline. These entries are kept in this browser; new ones arrive when you are back online.', 'warn', 'offline')
    else if ($('notice').dataset.reason === 'offline') notice(null)
  }
  $('net-state').title = `network: ${network.kind}`
  network.onState(netState)
  addEventListener('online', netState)
  addEventListener('offline', netState)
  netState()
  network.join(core)
  if (!writer) core.download({ start: 0, end: -1 })

  core.on('append', () => { void renderNew() })
  core.on('peer-add', pills)
  core.on('peer-remove', pills)
  await renderNew()
  pills()

  $('composer').onsubmit = async (e) => {
    e.preventDefault()
    const input = $<HTMLInputElement>('entry')
    const text = input.value.trim()
    if (text === '') return
    input.value = '' // at once: the next entry may be typed before this append commits
    try {
      await core.append({ text, time: Date.now() } satisfies Entry)
      if (core.length === 1) void askPersist()
    } catch (err) {
      input.value = text
      const x = explain(err)
      notice(x.text, 'error', x.reason)
    }
  }
  $('btn-copy').onclick = async () => {
    const input = $<HTMLInputElement>('log-link')
    input.select()
    try { await navigator.clipboard.writeText(input.value) } catch { document.execCommand('copy') }
  }
  void showStorage($('storage'))
  document.body.dataset.ready = 'true'
}

/** Shows entries [rendered, length) in order; `get` waits for blocks still on their way. */
async function renderNew (): Promise<void> {
  if (rendering) return
  rendering = true
  try {
    while (rendered < core.length) {
      const e = await core.get(rendered) as Entry
      const li = h('li', { class: 'entry' },
        h('div', { class: 'meta' }, `#${rendered + 1} · ${new Date(e.time).toLocaleString()}`),
        h('div', { class: 'text' }, String(e.text)))
      $('entries').prepend(li)
      rendered++
    }
  } catch (err) {
    const x = explain(err)
    notice(x.text, 'error', x.reason)
  } finally {
    rendering = false
  }
  $('empty').hidden = rendered > 0
  document.body.dataset.entries = String(rendered)
  pills()
}

function pills (): void {
  $('pill-count').textContent = `${core.length} entr${core.length === 1 ? 'y' : 'ies'} in this browser`
  const peers = core.peers.length
  $('pill-peers').textContent = peers === 0 ? 'no peers right now' : `${peers} peer${peers === 1 ? '' : 's'} · in sync`
  $('pill-peers').dataset.on = String(peers > 0)
}

async function registerServiceWorker (): Promise<void> {
  const pill = $('pill-sw')
  if (!('serviceWorker' in navigator)) { pill.textContent = 'no offline support in this browser'; pill.dataset.warn = 'true'; return }
  try {
    await navigator.serviceWorker.register('./sw.js')
    await navigator.serviceWorker.ready
    pill.textContent = 'works offline'
    pill.dataset.on = 'true'
    document.body.dataset.sw = 'ready'
  } catch {
    pill.textContent = 'offline support unavailable'
    pill.dataset.warn = 'true'
  }
}

main().catch(err => { const x = explain(err); notice(x.text, 'error', x.reason) })
