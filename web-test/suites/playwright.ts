/**
 * @module web-test/suites/playwright
 * The shared browser tests' page interface (./page.ts) over Playwright, for the Chromium
 * specs (web-test/*.spec.ts) and for the Chromium side of the Firefox runner's
 * Firefox ↔ Chromium test. Relative paths resolve against the context's `baseURL`.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test'
import type { BrowserCase, BrowserSession, TestPage } from './page.js'

/** Chromium offers WebRTC host candidates only to a page with media permission: without it a page on loopback cannot connect. */
export const chromiumContextOptions = { permissions: ['camera', 'microphone'] }

/** `page` as a TestPage; `close()` closes `owned` (its own profile) when given, else the page. */
export function playwrightPage (page: Page, owned?: BrowserContext): TestPage {
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  const ready = async (): Promise<void> => { await page.waitForFunction(() => (globalThis as { testApi?: unknown }).testApi) }
  return {
    errors,
    async open (path) { await page.goto(path); await ready() },
    async reload () { await page.reload(); await ready() },
    call: (method, ...args) => page.evaluate(([m, a]) => ((globalThis as any).testApi[m])(...a), [method, args] as const),
    async expose (name, fn) { await page.exposeFunction(name, fn) },
    async close () { await (owned ?? page).close() }
  }
}

/** A Playwright test's fixtures as a BrowserSession. */
export function playwrightSession ({ page, context, browser }: { page: Page, context: BrowserContext, browser: Browser }): BrowserSession {
  return {
    name: 'Chromium',
    page: playwrightPage(page),
    newTab: async () => playwrightPage(await context.newPage()),
    newProfile: async () => {
      const ctx = await browser.newContext(chromiumContextOptions)
      return playwrightPage(await ctx.newPage(), ctx)
    }
  }
}

/**
 * Runs a shared case on a Playwright test's fixtures. Playwright reads which fixtures a test
 * uses from its function's source, so the argument must be destructured right there.
 */
export const runCase = (c: BrowserCase) => async ({ page, context, browser }: { page: Page, context: BrowserContext, browser: Browser }): Promise<void> => {
  await c.run(playwrightSession({ page, context, browser }))
}
