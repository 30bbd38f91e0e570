/**
 * @module web-test/webrtc.spec
 * The WebRTC transport in real Chromium: two pages (each in its own context, given media
 * permissions so Chromium offers loopback host candidates) exchange signals through this
 * test process and replicate a core over `createWebRtcPeer`'s stream; half close, destroy,
 * a page closed without a goodbye; then Node (`@roamhq/wrtc`) ↔ Chromium. The test bodies
 * are shared with the Firefox runner (web-test/suites/webrtc.ts).
 */
import { test } from '@playwright/test'
import { webrtcCases } from './suites/webrtc.js'
import { runCase } from './suites/playwright.js'

for (const c of webrtcCases) test(c.title('Chromium'), runCase(c))
