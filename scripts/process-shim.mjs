/**
 * @module scripts/process-shim
 * The `process` that browser bundles see (injected by esbuild, see browser-shims.mjs): what
 * readable-stream and debug (through simple-peer) need. `nextTick` runs in a microtask, as
 * Node's does; `versions` has no `node`, so code that sniffs for Node still sees a browser.
 */
export const process = {
  nextTick (fn, ...args) { queueMicrotask(() => fn(...args)) },
  env: {},
  browser: true,
  version: '',
  versions: {}
}
