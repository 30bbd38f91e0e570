/**
 * @module demo/shims/hypercore
 * What `require('hypercore')` gives the demo's browser bundle: hypercore-web's `Hypercore`
 * class. hyperdrive@11 requires 'hypercore' for two static uses (`Hypercore.key(manifest)` of
 * a blobs core derived from a manifest, and `instanceof Hypercore` in `getContentKey`), and an
 * app that runs hyperdrive on hypercore-web maps the name the same way; the npm hypercore@10
 * (Node storage, sodium-native) is never bundled. CommonJS because `require()` must return
 * the class itself, not a module namespace.
 */
module.exports = require('../../src/core/hypercore.ts').Hypercore
