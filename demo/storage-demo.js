// The storage demo: an IndexedDB-backed random-access file, written and read back through
// the library's promise wrapper, then hashed and signed as a one-block Hypercore tree.
import { IdbStorage, promisify, cryptoReady, crypto, HypercoreError } from '/dist/index.js'

const DB = 'hypercore-web-demo'
const $ = id => document.getElementById(id)
const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')

let db = new IdbStorage(DB)
let file = promisify(db.file('data'))
const keys = (async () => { await cryptoReady(); return crypto.keyPair() })()

function status (text, kind = '') {
  $('status').textContent = text
  $('status').className = kind
}

async function show () {
  const { size } = await file.stat()
  const bytes = size > 0 ? await file.read(0, size) : new Uint8Array()
  $('db').textContent = `${DB} (page size ${db.pageSize} bytes)`
  $('size').textContent = `${size} bytes`
  $('hex').textContent = size > 0 ? hex(bytes) : '(empty)'
  $('utf8').textContent = new TextDecoder().decode(bytes).replace(/\0/g, '·') || '(empty)'
  const kp = await keys
  const leaf = { index: 0, size: bytes.byteLength, hash: crypto.leafHash(bytes) }
  const treeHash = crypto.treeHash([leaf])
  const signable = crypto.compatSignable(treeHash, 1, 0)
  const signature = crypto.sign(signable, kp.secretKey)
  $('leaf').textContent = hex(leaf.hash)
  $('tree').textContent = hex(treeHash)
  $('sig').textContent = hex(signature)
  const ok = crypto.verify(signable, signature, kp.publicKey)
  $('verifies').textContent = ok ? 'yes' : 'NO'
  $('verifies').className = ok ? 'ok' : 'error'
  document.body.dataset.ready = 'true'
}

$('write').addEventListener('submit', async (e) => {
  e.preventDefault()
  const button = e.submitter
  button.disabled = true
  try {
    const data = new TextEncoder().encode($('text').value)
    const offset = Number($('offset').value)
    await file.write(offset, data)
    status(`Wrote ${data.byteLength} bytes at offset ${offset}: committed in one IndexedDB transaction.`, 'ok')
    await show()
  } catch (err) {
    status(describe(err), 'error')
  } finally {
    button.disabled = false
  }
})

$('clear').addEventListener('click', async () => {
  await db.destroy()
  db = new IdbStorage(DB)
  file = promisify(db.file('data'))
  status('Database deleted.')
  await show()
})

function describe (err) {
  if (HypercoreError.is(err, 'STORAGE_QUOTA')) return 'The browser has no storage space left for this site.'
  if (HypercoreError.is(err, 'BAD_ARGUMENT')) return `That input was refused: ${err.message}`
  return `Failed: ${err.message}`
}

show().then(() => status('Ready. Reload the page: what you wrote is still there.')).catch(err => status(describe(err), 'error'))
