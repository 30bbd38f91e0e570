/**
 * @module scripts/rabin-native-stub
 * What `rabin-native` becomes in this repository's browser pages (scripts/bundle-pages.mjs).
 * hyperdrive@11 loads mirror-drive, which since 1.13 loads rabin-stream and through it
 * rabin-native, a native addon, as soon as it is imported, though it only uses it for
 * `drive.mirror(out, { dedup: true })`. A browser cannot load an addon, so an app bundling
 * hyperdrive maps rabin-native to a module like this one (README: "Hyperdrive in the
 * browser"): everything else of hyperdrive works, and `dedup` fails loudly.
 */
exports.Chunker = class Chunker {
  constructor () {
    throw new Error('rabin-native is a native addon and is left out of browser bundles: mirror({ dedup: true }) is not available')
  }
}
