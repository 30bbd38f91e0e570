/**
 * @module replication/secret-stream/cipher.browser
 * The browser's secretstream cipher (spec §5.4): libsodium's own push/pull in WASM. Chosen
 * by the `#platform/secretstream-cipher` import (package.json "imports", browser/default).
 */
export { WasmSecretstreamPush as SecretstreamPush, WasmSecretstreamPull as SecretstreamPull } from './cipher-wasm.js'
