import { test, expect } from '@playwright/test'

// The `npm start` page, driven as a person uses it: write text into IndexedDB, see the
// bytes, reload, and see them again (they came from IndexedDB, not from memory).
test('storage demo writes to IndexedDB, shows the bytes, and keeps them across a reload', async ({ page }) => {
  await page.goto('/demo/index.html')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await page.getByRole('button', { name: 'Delete the database' }).click()
  await expect(page.locator('#size')).toHaveText('0 bytes')

  await page.getByLabel('Text to store').fill('hi!')
  await page.getByLabel('Byte offset').fill('2')
  await page.getByRole('button', { name: 'Write' }).click()
  await expect(page.locator('#status')).toContainText('Wrote 3 bytes at offset 2')
  await expect(page.locator('#size')).toHaveText('5 bytes')
  await expect(page.locator('#hex')).toHaveText('0000686921')
  await expect(page.locator('#verifies')).toHaveText('yes')
  await page.screenshot({ path: 'test-results/storage-demo.png', fullPage: true })

  await page.reload()
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await expect(page.locator('#hex')).toHaveText('0000686921')
  await expect(page.locator('#utf8')).toHaveText('··hi!')
})
