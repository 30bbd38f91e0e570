/**
 * @module demo/shims/process
 * The `process` that simple-peer (and its readable-stream) expect in a browser bundle:
 * nextTick through a microtask, an empty env. Injected by esbuild (demo/serve.mjs).
 */
export const process = {
  env: {},
  browser: true,
  version: '',
  versions: {},
  nextTick: (fn, ...args) => queueMicrotask(() => fn(...args))
}
