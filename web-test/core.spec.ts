/**
 * @module web-test/core.spec
 * The Hypercore suites on real IndexedDB in Chromium: the API suite, the connection release,
 * crash safety across reloads (the test bodies are shared with the Firefox runner:
 * web-test/suites/core.ts).
 */
import { test } from '@playwright/test'
import { coreCases } from './suites/core.js'
import { runCase } from './suites/playwright.js'

for (const c of coreCases) test(c.title('Chromium'), runCase(c))
