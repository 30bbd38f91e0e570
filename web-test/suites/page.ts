/**
 * @module web-test/suites/page
 * What a shared browser test sees of a browser, so one test body runs in Chromium (a
 * Playwright spec, through ./playwright.ts) and in Firefox (web-test/firefox/, over
 * puppeteer-core). A test page exposes `globalThis.testApi` (web-test/pages/*.page.ts);
 * a test only opens pages, calls their `testApi`, reloads them and relays between them.
 */

/** One page of a test page server. */
export interface TestPage {
  /** Opens `path` of the test page server (e.g. '/pages/core.html') and waits for its `testApi`. */
  open (path: string): Promise<void>
  /** Reloads the page and waits for its `testApi` again. */
  reload (): Promise<void>
  /** `await globalThis.testApi[method](...args)` in the page; arguments and result are JSON. */
  call<R = any> (method: string, ...args: unknown[]): Promise<R>
  /** Makes `globalThis[name](arg)` in the page call `fn(arg)` in this process (arguments are JSON). */
  expose (name: string, fn: (arg: any) => unknown): Promise<void>
  /** Closes the page (and its profile, for a page from `newProfile`). */
  close (): Promise<void>
  /** The page's uncaught errors so far. */
  readonly errors: string[]
}

/** The browser a shared test runs in. */
export interface BrowserSession {
  /** 'Chromium' or 'Firefox': goes into the test titles. */
  readonly name: string
  /** A page of the test's own profile. */
  readonly page: TestPage
  /** Another tab of `page`'s profile: the same IndexedDB, Web Locks and BroadcastChannel. */
  newTab (): Promise<TestPage>
  /** A page in a new profile of its own: another person's browser. */
  newProfile (): Promise<TestPage>
}

/** One shared test: a title that names the browser, and its body. */
export interface BrowserCase {
  title: (browser: string) => string
  run: (session: BrowserSession) => Promise<void>
}

/** A name no other test or run uses (database names outlive a test in a reused profile). */
let seq = 0
export const unique = (tag: string): string => `spec-${tag}-${Date.now()}-${seq++}`
