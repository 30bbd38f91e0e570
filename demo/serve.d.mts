/** Types of demo/serve.mjs, for the Playwright spec that starts its own demo server. */
export interface DemoServer {
  url: string
  port: number
  signalUrl: string | null
  close (): Promise<void>
}
export function bundleDemo (opts?: { minify?: boolean }): Promise<void>
export function startDemo (opts?: { port?: number, host?: string, bundle?: boolean, signaling?: boolean, createSignalServer?: (o: { port: number, host: string }) => Promise<{ port: number, url: string, close (): Promise<void> }> }): Promise<DemoServer>
