/**
 * @module demo/shims/rabin-stream
 * What `require('rabin-stream')` gives the demo's browser bundle. mirror-drive (required by
 * hyperdrive@11) uses it only for `mirror({ dedup: true })`, and its native binding
 * (rabin-native) cannot load in a browser; the demo never mirrors with dedup.
 */
module.exports = class RabinStream {
  constructor () {
    throw new Error('mirror({ dedup: true }) needs rabin-native, which does not run in a browser')
  }
}
