/**
 * @module web-test/firefox/cross-browser
 * WebRTC between a Firefox page and a Chromium page: one writes a core, the other
 * replicates it and checks every block (web-test/suites/webrtc.ts `replicateOverWebRtc`,
 * the body the same-browser tests use), in both directions, trickle on and off.
 */
import { test } from 'node:test'
import type { Browser } from '@playwright/test'
import type { TestPage } from '../suites/page.js'
import { chromiumContextOptions, playwrightPage } from '../suites/playwright.js'
import { replicateOverWebRtc, webrtcPage } from '../suites/webrtc.js'
import type { FirefoxRun } from './harness.js'

export function crossBrowserWebRtcTests (firefox: () => FirefoxRun, chromium: () => Browser, timeout: number): void {
  /** A Chromium page in a profile of its own, on the Firefox run's test page server. */
  const chromiumPage = async (): Promise<TestPage> => {
    const ctx = await chromium().newContext({ ...chromiumContextOptions, baseURL: firefox().baseURL })
    return playwrightPage(await ctx.newPage(), ctx)
  }

  for (const [writer, reader, trickle] of [['Firefox', 'Chromium', true], ['Chromium', 'Firefox', false]] as const) {
    test(`a ${writer} page writes a core, a ${reader} page replicates it over WebRTC (trickle: ${trickle})`, { timeout }, async () => {
      const ff = await webrtcPage(await firefox().newProfile())
      const cr = await webrtcPage(await chromiumPage())
      try {
        const [a, b] = writer === 'Firefox' ? [ff, cr] : [cr, ff]
        const blocks = trickle ? 256 : 32
        const ms = await replicateOverWebRtc(a, b, { trickle, blocks })
        console.log(`${writer} → ${reader} (trickle ${trickle}): ${(blocks * (16 * 1024 + 3) / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`)
      } finally {
        await ff.close()
        await cr.close()
      }
    })
  }
}
