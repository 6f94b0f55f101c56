// Screenshots of a running genwatch for the README: node scripts/screenshots.mjs [URL]
// (start it first with `npm start`). Uses Debian's Chromium.
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://localhost:5173';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
for (const colorScheme of ['dark']) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 }, colorScheme });
  await page.goto(base);
  await page.locator('tbody tr').nth(5).waitFor({ timeout: 15_000 });
  await page.waitForTimeout(2500);
  await page.screenshot({ path: 'docs/board.png' });
  const running = page.locator('tbody tr', { has: page.getByText('running', { exact: true }) }).first();
  await running.getByRole('link').click();
  await page.getByRole('list', { name: 'Stages' }).waitFor();
  await page.waitForTimeout(4000);
  await page.screenshot({ path: 'docs/job.png' });
}
await browser.close();
