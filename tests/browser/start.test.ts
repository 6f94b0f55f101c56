import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { platformLabel, PLATFORM_KINDS } from '../../src/protocols';
import { launchBrowser } from '../support/browser';
import { runStartCommand, stopStartCommands } from '../support/startCommand';

// What `npm start` gives a new user: the board fills with jobs of every platform at once.

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  stopStartCommands();
  await browser?.close();
});

describe('npm start', () => {
  it('shows live jobs of all five platforms within 5 seconds, each marked with its platform', async () => {
    const url = await runStartCommand([]);
    const page = await browser.newPage();
    const opened = Date.now();
    await page.goto(url);
    const platforms = () => page.locator('tbody tr .platform__name').allTextContents();
    await expect
      .poll(async () => new Set((await platforms()).map((name) => name.split(' · ')[0])), { timeout: 5000, interval: 200 })
      .toEqual(new Set(PLATFORM_KINDS.map(platformLabel)));
    expect(Date.now() - opened).toBeLessThan(5000);
    await page.close();
  });
});
