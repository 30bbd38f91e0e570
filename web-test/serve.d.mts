/** Types of web-test/serve.mjs, for the Firefox runner that starts its own copy. */
export interface TestPageServer {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  url: string
  close (): Promise<void>
}
export function serveTestPages (opts?: { port?: number, out?: string }): Promise<TestPageServer>
