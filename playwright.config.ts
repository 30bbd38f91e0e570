import { defineConfig } from '@playwright/test'

const port = Number(process.env.PW_PORT ?? 4173)

/**
 * Browser tests run in Debian's Chromium (never a downloaded one: nothing can be
 * downloaded in CI). The flags keep Chromium off the network and let WebRTC use
 * loopback host candidates (see ../shared/NOTES-ENV.md).
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'
  ]
}

export default defineConfig({
  testDir: './web-test',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  workers: 2,
  forbidOnly: true,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: chromiumLaunchOptions,
    permissions: ['camera', 'microphone']
  },
  webServer: {
    command: `node web-test/serve.mjs`,
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: !process.env.CI,
    env: { PW_PORT: String(port) },
    timeout: 60_000
  }
})
