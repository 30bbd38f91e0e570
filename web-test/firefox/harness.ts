/**
 * @module web-test/firefox/harness
 * Runs the shared browser tests (web-test/suites/) in Debian's Firefox ESR. Playwright
 * cannot drive a stock Firefox (it needs its own patched build, which cannot be downloaded
 * here), so this drives it with puppeteer-core over WebDriver BiDi: one Firefox for the
 * whole run, a fresh profile (a BiDi user context: its own IndexedDB, Web Locks,
 * BroadcastChannel) per test, and the test pages from web-test/serve.mjs, the server the
 * Playwright specs use, bundled into a folder of its own.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core'
import { serveTestPages, type TestPageServer } from '../serve.mjs'
import type { BrowserCase, BrowserSession, TestPage } from '../suites/page.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'

export const firefoxLaunchOptions = {
  browser: 'firefox' as const,
  executablePath: firefoxPath,
  headless: true,
  protocol: 'webDriverBiDi' as const,
  extraPrefsFirefox: {
    // WebRTC between pages of one machine, with no STUN server: Firefox leaves loopback
    // addresses out of its host candidates unless told, so on a machine whose only interface
    // is loopback no pair would connect (where another interface is up, its address serves).
    // Unlike Chromium, Firefox needs no media permission to offer host candidates.
    'media.peerconnection.ice.loopback': true
  }
}

/** `page` as a TestPage; `close()` closes `owned` (its own profile) when given, else the page. */
export function puppeteerPage (page: Page, baseURL: string, owned?: BrowserContext): TestPage {
  const errors: string[] = []
  page.on('pageerror', (e: unknown) => errors.push(e instanceof Error ? e.message : String(e)))
  const ready = async (): Promise<void> => { await page.waitForFunction(() => (globalThis as { testApi?: unknown }).testApi) }
  return {
    errors,
    async open (p) { await page.goto(new URL(p, baseURL).href); await ready() },
    async reload () { await page.reload(); await ready() },
    // Functions sent to a page must not name inner functions: tsx (esbuild keepNames) wraps
    // them in a `__name` helper that does not exist in the page.
    call: (method, ...args) => page.evaluate((m, a) => ((globalThis as any).testApi[m])(...a), method, args),
    async expose (name, fn) { await page.exposeFunction(name, fn) },
    async close () { await (owned ?? page).close() }
  }
}

export interface FirefoxRun {
  /** puppeteer-core's Browser, for a test that drives a page itself (./demo.ts). */
  browser: Browser
  version: string
  /** The test page server's origin (http://127.0.0.1:<port>). */
  baseURL: string
  /** Runs one shared case in a fresh profile; every profile it opened is closed after it. */
  run (c: BrowserCase): Promise<void>
  /** A page in a profile of its own (closing the page closes the profile). */
  newProfile (): Promise<TestPage>
  close (): Promise<void>
}

/** Starts the test page server and Firefox. */
export async function startFirefox (): Promise<FirefoxRun> {
  const server: TestPageServer = await serveTestPages({ out: path.join(root, '.build/firefox') })
  let browser: Browser
  try {
    browser = await puppeteer.launch(firefoxLaunchOptions)
  } catch (err) {
    await server.close()
    throw err
  }
  const baseURL = server.url
  const newProfile = async (opened?: BrowserContext[]): Promise<TestPage> => {
    const ctx = await browser.createBrowserContext()
    opened?.push(ctx)
    return puppeteerPage(await ctx.newPage(), baseURL, ctx)
  }
  return {
    browser,
    version: await browser.version(),
    baseURL,
    newProfile: () => newProfile(),
    async run (c) {
      const opened: BrowserContext[] = []
      try {
        const ctx = await browser.createBrowserContext()
        opened.push(ctx)
        const session: BrowserSession = {
          name: 'Firefox',
          page: puppeteerPage(await ctx.newPage(), baseURL),
          newTab: async () => puppeteerPage(await ctx.newPage(), baseURL),
          newProfile: () => newProfile(opened)
        }
        await c.run(session)
      } finally {
        for (const ctx of opened) await ctx.close().catch(() => {})
      }
    },
    async close () {
      await browser.close().catch(() => {})
      await server.close()
    }
  }
}
