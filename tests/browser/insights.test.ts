import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { insightsHistory, TIMEOUT } from '../fixtures/insights';
import { axe, browserSuite } from '../support/suite';

// /insights in the real app: figures from a stored history checked against the ones worked out
// by hand (tests/unit/insights.test.ts), a job that ends in this browser counted and kept, and
// bars and rows that open the board filtered to their jobs.

const suite = browserSuite({ codebegen: { jobDurationMs: 800 } });

/** Writes finished jobs' facts into the page's IndexedDB, as the dashboard keeps them. */
async function storeFacts(page: Page, facts: unknown[]) {
  await page.evaluate(async (list) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('genwatch-insights', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('facts', { keyPath: 'key' }).createIndex('byFinishedAt', 'finishedAt');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction('facts', 'readwrite');
    for (const fact of list) tx.objectStore('facts').put(fact);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
  }, facts);
}

/** Clicks the first bar from the left drawn in `property`'s colour (a CSS custom property) on the throughput chart. */
async function clickBar(page: Page, property: string) {
  const canvas = page.getByRole('img', { name: /Jobs ended over time/ });
  const point = await canvas.evaluate((element, name) => {
    const chart = element as HTMLCanvasElement;
    const probe = document.createElement('span');
    probe.style.color = `var(${name})`;
    document.body.append(probe);
    const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g)!.map(Number);
    probe.remove();
    const { data, width, height } = chart.getContext('2d')!.getImageData(0, 0, chart.width, chart.height);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const at = (y * width + x) * 4;
        if (Math.abs(data[at] - r) < 3 && Math.abs(data[at + 1] - g) < 3 && Math.abs(data[at + 2] - b) < 3) {
          xs.push(x);
          ys.push(y);
        }
      }
    // the legend's swatch is drawn in the same colour: the bars are below it
    const bar = xs.map((x, index) => ({ x, y: ys[index] })).filter((pixel) => pixel.y > height * 0.25);
    // the first bar from the left: its leftmost column and the pixels a bar's width from it
    const left = Math.min(...bar.map((pixel) => pixel.x));
    const first = bar.filter((pixel) => pixel.x <= left + 4);
    const scale = chart.width / chart.getBoundingClientRect().width;
    return { x: (left + 2) / scale, y: Math.max(...first.map((pixel) => pixel.y)) / scale - 3 };
  }, property);
  const box = (await canvas.boundingBox())!;
  await page.mouse.click(box.x + point.x, box.y + point.y);
}

describe('insights', () => {
  it('shows the figures of a stored history as worked out by hand, shareable by URL, without an axe violation', async () => {
    const t0 = Date.UTC(2026, 10, 2, 9, 0, 0);
    const page = await suite.freshPage();
    await page.goto(`${suite.stack.appUrl}/sources`);
    await storeFacts(page, insightsHistory(t0));
    const from = new Date(t0).toISOString();
    const to = new Date(t0 + 3_600_000).toISOString();
    await page.goto(`${suite.stack.appUrl}/insights?window=custom&from=${from}&to=${to}`);
    await expect.poll(() => page.getByTestId('insights-jobs').textContent(), { timeout: 15_000 }).toBe('6');
    expect(await page.getByTestId('insights-success').textContent()).toBe('60.0%');
    expect(await page.getByTestId('insights-duration').textContent()).toBe('1 m 00 s · 2 m 00 s · 2 m 00 s');
    expect(await page.getByTestId('eta-error-codebegen').textContent()).toBe('10 s');
    expect(await page.getByTestId('eta-error-imagegen').textContent()).toBe('20 s');
    expect(await page.getByTestId('insights-source-cb').getByRole('cell').allTextContents()).toEqual(expect.arrayContaining(['4', '50.0%']));
    const failure = page.getByRole('table', { name: 'Failures' }).getByRole('row', { name: new RegExp(TIMEOUT) });
    expect(await failure.getByRole('cell').nth(2).textContent()).toBe('2');
    expect(await page.getByRole('button', { name: 'custom' }).getAttribute('aria-pressed')).toBe('true');

    for (const colorScheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.waitForTimeout(300);
      expect(await axe(page), colorScheme).toEqual([]);
    }

    // the two completed jobs of 09:01 are behind the first green bar
    await clickBar(page, '--ok');
    await page.waitForURL(/\/\?/);
    const query = new URL(page.url()).searchParams;
    expect(query.get('status')).toBe('completed');
    expect(query.get('finished')).toBe(`${t0 + 60_000}-${t0 + 120_000}`);
    await page.getByRole('group', { name: 'Filters from insights' }).getByRole('button', { name: /ended/ }).waitFor();

    // a failure group opens the board on those failures
    await page.goBack();
    await page.getByRole('table', { name: 'Failures' }).getByRole('link', { name: TIMEOUT }).click();
    await page.waitForURL(/failure=/);
    expect(new URL(page.url()).searchParams.get('failure')).toBe(TIMEOUT);
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');
  });

  it('counts a job that ends in this browser, keeps it across a reload, and a source row opens the board on it', async () => {
    const { platform } = suite.stack;
    const page = await suite.freshPage();
    await page.goto(suite.stack.appUrl);
    const jobId = platform.startGeneration({ prompt: 'A job for the insights page', __durationMs: 800, __fail: false });
    const row = page.locator('tbody tr[data-job]', { hasText: 'A job for the insights page' });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('completed');
    // written a moment after it ends
    await page.waitForTimeout(1500);
    await page.getByRole('navigation').getByRole('link', { name: 'Insights' }).click();
    await page.getByRole('button', { name: 'last hour' }).click();
    await expect.poll(() => page.url()).toContain('window=1h');
    const source = page.getByTestId('insights-source-codebegen-demo');
    await source.waitFor({ timeout: 15_000 });
    const counted = Number(await source.getByRole('cell').nth(1).textContent());
    expect(counted).toBeGreaterThanOrEqual(1);

    await page.reload();
    await source.waitFor({ timeout: 15_000 });
    expect(Number(await source.getByRole('cell').nth(1).textContent())).toBeGreaterThanOrEqual(counted);

    await source.getByRole('link', { name: 'CodeBegen (demo)' }).click();
    await page.waitForURL(/source=codebegen-demo/);
    await page.locator(`tbody tr[data-job="codebegen-demo/${jobId}"]`).waitFor({ timeout: 10_000 });
  });
});
