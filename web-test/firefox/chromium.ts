/**
 * @module web-test/firefox/chromium
 * The Chromium half of the Firefox runner's Firefox ↔ Chromium tests: Debian's Chromium
 * through Playwright, with the Playwright specs' launch options (playwright.config.ts).
 */
import { after, before } from 'node:test'
import { chromium, type Browser } from '@playwright/test'
import { chromiumLaunchOptions } from '../../playwright.config.js'

/** Launches Chromium before the tests of the enclosing `describe` and closes it after them. */
export function useChromium (): () => Browser {
  let browser: Browser | undefined
  before(async () => { browser = await chromium.launch(chromiumLaunchOptions) })
  after(async () => { await browser?.close() })
  return () => {
    if (browser === undefined) throw new Error('Chromium is not running')
    return browser
  }
}
