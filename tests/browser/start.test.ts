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

  it('with --relay: live jobs of all five platforms within 5 seconds, through one stream to the relay', async () => {
    const url = await runStartCommand(['--relay']);
    const relay = await (await fetch(`${url}/relay.json`)).json();
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(url);
    const platforms = () => page.locator('tbody tr .platform__name').allTextContents();
    await expect
      .poll(async () => new Set((await platforms()).map((name) => name.split(' · ')[0])), { timeout: 5000, interval: 200 })
      .toEqual(new Set(PLATFORM_KINDS.map(platformLabel)));
    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    await expect.poll(() => page.getByTestId('relay-state').textContent()).toBe('live');
    // nothing but the dashboard and the relay: the platforms are the relay's business
    const origins = new Set(requested.map((address) => new URL(address).origin));
    expect([...origins].sort()).toEqual([new URL(url).origin, relay.url].sort());
    await page.close();
  });
});
