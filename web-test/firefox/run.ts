/**
 * @module web-test/firefox/run
 * `npm run test:firefox`: the shared browser tests in Firefox ESR (see ./harness.ts), the
 * same bodies the Chromium specs run (web-test/suites/), then Firefox ↔ Chromium: WebRTC
 * (signals relayed by this process, as between Chromium pages: ./cross-browser.ts) and the
 * demo's sharing flow (./demo.ts).
 * A node:test process: `node --import tsx web-test/firefox/run.ts [suite …]` runs the named
 * suites only (storage, storage-safety, core, hyperbee, hyperdrive, webrtc, cross-browser, demo).
 */
import { after, before, describe, test } from 'node:test'
import type { BrowserCase } from '../suites/page.js'
import { storageCases } from '../suites/storage.js'
import { storageSafetyCases } from '../suites/storage-safety.js'
import { coreCases } from '../suites/core.js'
import { hyperbeeCases } from '../suites/hyperbee.js'
import { hyperdriveCases } from '../suites/hyperdrive.js'
import { webrtcCases } from '../suites/webrtc.js'
import { startFirefox, type FirefoxRun } from './harness.js'
import { useChromium } from './chromium.js'
import { crossBrowserWebRtcTests } from './cross-browser.js'
import { demoTests } from './demo.js'

const TIMEOUT = 120_000

const suites: Record<string, BrowserCase[]> = {
  storage: storageCases,
  'storage-safety': storageSafetyCases,
  core: coreCases,
  hyperbee: hyperbeeCases,
  hyperdrive: hyperdriveCases,
  webrtc: webrtcCases
}
const only = process.argv.slice(2)
const wanted = (name: string): boolean => only.length === 0 || only.includes(name)

let firefox: FirefoxRun
before(async () => {
  firefox = await startFirefox()
  console.log(`${firefox.version}, test pages on ${firefox.baseURL}`)
})
after(async () => { await firefox?.close() })

for (const [name, cases] of Object.entries(suites)) {
  if (!wanted(name)) continue
  describe(`${name} (Firefox)`, () => {
    for (const c of cases) test(c.title('Firefox'), { timeout: TIMEOUT }, () => firefox.run(c))
  })
}

if (wanted('cross-browser') || wanted('demo')) {
  describe('Firefox ↔ Chromium', () => {
    const chromium = useChromium()
    if (wanted('cross-browser')) crossBrowserWebRtcTests(() => firefox, chromium, TIMEOUT)
    if (wanted('demo')) demoTests(() => firefox, chromium, TIMEOUT)
  })
}
