/**
 * @module web-test/hyperdrive.spec
 * Hyperdrive (hyperdrive@11, unchanged) on our Corestore in Chromium, on real IndexedDB,
 * against hyperdrive@11 on corestore@6 in this Node process, and replicating with it both ways
 * over a WebSocket and over WebRTC (the test bodies are shared with the Firefox runner:
 * web-test/suites/hyperdrive.ts).
 */
import { test } from '@playwright/test'
import { hyperdriveCases } from './suites/hyperdrive.js'
import { runCase } from './suites/playwright.js'

for (const c of hyperdriveCases) test(c.title('Chromium'), runCase(c))
