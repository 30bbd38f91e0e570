/**
 * @module replication/secret-stream/cipher
 * The secretstream cipher of this platform (spec §5.4), one interface for all of them:
 * `new SecretstreamPush(tx)` → `header`, `encryptInto`/`encrypt`; `new SecretstreamPull(rx,
 * header)` → `decrypt`; `destroy()`. Browsers get libsodium's WASM push/pull
 * (cipher.browser.ts); Node gets the same state driven by node:crypto for large messages
 * (cipher.node.ts). Both produce identical bytes; the choice is made at the file level
 * through package.json "imports" (#platform/secretstream-cipher), never at run time.
 */
export { SecretstreamPush, SecretstreamPull } from '#platform/secretstream-cipher'
export { ABYTES, HEADER_BYTES, KEY_BYTES, TAG_MESSAGE } from './cipher-wasm.js'
