/**
 * @module web-test/hyperbee.spec
 * Hyperbee (hyperbee@2, unchanged, extension on) on our core in Chromium, on real IndexedDB,
 * against hypercore@10 in this Node process (the test bodies are shared with the Firefox
 * runner: web-test/suites/hyperbee.ts).
 */
import { test } from '@playwright/test'
import { hyperbeeCases } from './suites/hyperbee.js'
import { runCase } from './suites/playwright.js'

for (const c of hyperbeeCases) test(c.title('Chromium'), runCase(c))
