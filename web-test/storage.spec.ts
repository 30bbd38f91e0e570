/**
 * @module web-test/storage.spec
 * The storage suites in real Chromium (the test bodies are shared with the Firefox runner:
 * web-test/suites/storage.ts).
 */
import { test } from '@playwright/test'
import { storageCases } from './suites/storage.js'
import { runCase } from './suites/playwright.js'

for (const c of storageCases) test(c.title('Chromium'), runCase(c))
