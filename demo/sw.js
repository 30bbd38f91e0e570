/**
 * @module demo/sw
 * The demo's service worker: keeps the app shell (pages, script bundles, stylesheet,
 * manifest, icon, config) in the Cache API so the log page opens with no network to its
 * server. Same-origin GETs are answered from the cache at once and refreshed from the
 * network behind it (stale-while-revalidate), so a rebuilt demo shows up on the next load.
 * The data itself is in IndexedDB, never here.
 */
const CACHE = 'hypercore-web-demo-v1'
const SHELL = ['./log.html', './index.html', './style.css', './icon.svg', './manifest.webmanifest', './build/log-page.js', './build/dataset-page.js', './config/config.json']

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name)
    await self.clients.claim()
  })())
})

self.addEventListener('fetch', (event) => {
  const req = event.request
  const url = new URL(req.url)
  if (req.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/relay')) return
  event.respondWith((async () => {
    const cache = await caches.open(CACHE)
    if (url.pathname.startsWith('/config/')) {
      // Where the signaling server is changes with each server start: network first.
      try {
        const res = await fetch(req)
        if (res.ok) await cache.put(req, res.clone())
        return res
      } catch {
        return (await cache.match(req)) ?? Response.error()
      }
    }
    const cached = await cache.match(req, { ignoreSearch: true })
    const fresh = fetch(req).then(res => {
      if (res.ok) cache.put(req, res.clone())
      return res
    })
    if (cached !== undefined) {
      event.waitUntil(fresh.catch(() => {}))
      return cached
    }
    return fresh
  })())
})
