import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, inject, jobUrl, storedByPage, waitForStatus } from '../support/suite';
import { watchFeedWorker } from '../support/feedWorker';

// Hostile input and the browser's own defences, against the demo platforms and the built app.
// Every page of every browser test also runs under the dashboard's CSP and fails on a
// violation (see support/suite.ts); here the policy itself and the payloads are tested.

const suite = browserSuite({
  wire: 'guide',
  codebegen: { jobDurationMs: 2500, heartbeatMs: 500 },
  smartforge: { jobDurationMs: 2500, heartbeatMs: 500 },
  imagegen: { stepMs: 40, keepAliveMs: 500 },
});

/** nothing a payload tried ran, was parsed as markup, or widened the page */
async function expectInert(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __genwatchPwned?: number }).__genwatchPwned)).toBeUndefined();
  expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);
  expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // the innermost elements that reach past the window, to say what widened it
    const culprits = [...document.querySelectorAll('body *')]
      .filter(
        (element) =>
          element.getBoundingClientRect().right > width + 1 && ![...element.children].some((child) => child.getBoundingClientRect().right > width + 1),
      )
      .slice(0, 3)
      .map((element) => `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}: ${(element.textContent ?? '').slice(0, 40)}`);
    return { by: document.documentElement.scrollWidth - width, culprits };
  });
  expect(overflow.by, `a 10,000-character name must not widen the page: ${overflow.culprits.join(' | ')}`).toBeLessThanOrEqual(1);
}

describe('Content-Security-Policy', () => {
  it('is strict for scripts, shuts plugins and <base>, and allows connections to the configured sources only', async () => {
    const { platform, imagegen } = suite.stack;
    for (const path of ['/', '/jobs/codebegen-demo/anything', '/index.html']) {
      const response = await fetch(`${suite.stack.appUrl}${path}`);
      const policy = response.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(
        policy
          .split(';')
          .map((part) => part.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives['script-src']).toEqual(["'self'"]);
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(directives['object-src']).toEqual(["'none'"]);
      expect(directives['base-uri']).toEqual(["'none'"]);
      expect(directives['connect-src']).toEqual(
        expect.arrayContaining([
          "'self'",
          platform.url,
          platform.url.replace('http:', 'ws:'),
          imagegen.url.replace('http:', 'ws:'),
          suite.stack.comfyui.url.replace('http:', 'ws:'),
        ]),
      );
      // the dashboard, and each of the five demo origins over HTTP and WebSocket
      expect(directives['connect-src']).toHaveLength(1 + 5 * 2);
      expect(directives['report-uri']).toEqual(['/__csp-report']);
    }
  });

  it('reports a violation to the endpoint (so silence in every other test means none happened)', async () => {
    const page = await suite.freshPage({ expectCspViolations: true });
    await page.goto(suite.stack.appUrl);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__genwatchPwned = 1';
      document.head.append(script);
    });
    await expect.poll(() => suite.stack.takeCspReports().length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __genwatchPwned?: number }).__genwatchPwned)).toBeUndefined();
  });
});

describe('hostile payloads render as text', () => {
  it('CodeBegen: markup, script, javascript: URLs, bidi and zero-width characters, lone surrogates, 10,000-character names', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'a hostile platform', __durationMs: 2500, __fail: false });
    await inject(platform.url, { kind: 'hostile', job: jobId });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await waitForStatus(page, 'completed');
    const text = await page.locator('main').textContent();
    expect(text).toContain('<img src=x onerror="window.__genwatchPwned=1">');
    expect(text).toContain('<script>window.__genwatchPwned=1</script>');
    // a right-to-left override would turn "invoice‮txt.exe" into "invoiceexe.txt": it is shown instead
    expect(text).toContain('invoice⟨U+202E⟩txt.exe');
    expect(text).not.toContain('\u202E');
    await expectInert(page);
    // the board shows the same job among the others
    await page.goto(suite.stack.appUrl);
    await expect.poll(() => page.locator(`tr[data-job="codebegen-demo/${jobId}"]`).count()).toBe(1);
    await expectInert(page);
  });

  it('Smart Forge: file names and live code chunks', async () => {
    const { smartforge } = suite.stack;
    const projectId = smartforge.startProject('a hostile forge', { durationMs: 2500 });
    await inject(smartforge.url, { kind: 'hostile', job: projectId });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'smartforge-demo', projectId));
    await waitForStatus(page, 'completed');
    const code = await page.locator('main').textContent();
    expect(code).toContain('<script>window.__genwatchPwned=1</script>');
    await expectInert(page);
  });
});

describe('bounds', () => {
  it('an event over 256 KB is rejected unread and counted; the job goes on to its end', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'one event too large', __durationMs: 2500, __fail: false });
    await inject(platform.url, { kind: 'oversize', size_kb: 300, job: jobId, times: 1 });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await waitForStatus(page, 'completed');
    await expect.poll(() => page.getByText('1 invalid message skipped').count()).toBe(1);
    await page.getByLabel('Filter events by kind').selectOption('protocol-error');
    expect(await page.locator('li.entry--protocol-error').first().textContent()).toContain('over the 256 KB limit');
  });
});

/** everything the page keeps: both storages and every IndexedDB store, as one string */

describe('tokens', () => {
  it('appear nowhere but in Authorization headers and the iteration stream query: not in request logs, console, pages, URLs or storage', async () => {
    const { platform, takoss, imagegen, requestLog } = suite.stack;
    const page = await suite.freshPage();
    // the platform requests, their answers and what is logged of them are the feed worker's
    const worker = await watchFeedWorker(page, (url) => url.endsWith('/generations/iterate'));
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(message.text()));
    const pages: string[] = [];
    const keep = async () => pages.push(page.url(), await page.content(), await storedByPage(page));

    await page.goto(suite.stack.appUrl);
    await page.locator('tr[data-job]').first().waitFor({ timeout: 15_000 });
    const jobId = platform.startGeneration({ prompt: 'A generation to iterate on', __durationMs: 1500, __fail: false });
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await waitForStatus(page, 'completed');
    await keep();
    await page.getByPlaceholder('Add user authentication').fill('Add an audit trail');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await expect.poll(() => worker.bodies.length, { timeout: 10_000 }).toBe(1);
    const sseToken = (JSON.parse(worker.bodies[0].body) as { sse_token: string }).sse_token;
    await page.waitForURL((url) => !url.pathname.endsWith(jobId));
    await waitForStatus(page, 'completed');
    await keep();
    for (const path of ['/connections', '/sources', '/']) {
      await page.goto(`${suite.stack.appUrl}${path}`);
      await page.waitForTimeout(500);
      await keep();
    }

    await worker.stop();
    consoleLines.push(...worker.console);
    const tokens = { codebegen: platform.devToken, takoss: takoss.devToken, imagegen: imagegen.devToken, iteration: sseToken };
    for (const [name, token] of Object.entries(tokens)) {
      expect(token.length, name).toBeGreaterThan(10);
      expect(
        requestLog.filter((line) => line.includes(token)),
        `${name} in a request log line`,
      ).toEqual([]);
      // Chromium itself logs the URL of a stream request that failed: the iteration's own query
      const leaks = consoleLines.filter((line) => line.includes(token) && !/\/generations\/[^/?\s]+\/stream\?token=/.test(line));
      expect(leaks, `${name} in the console`).toEqual([]);
      expect(pages.filter((text) => text.includes(token)).length, `${name} in a page, its URL or its storage`).toBe(0);
    }
  });

  it('a socket closed for policy (1008) asks once for a token and follows the task again with it', async () => {
    const { imagegen } = suite.stack;
    const taskId = `task-retoken-${Date.now()}`;
    await inject(imagegen.url, { kind: 'ws-close', code: 1008, events: 0, job: taskId, times: 1 });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'imagegen-demo', taskId));
    const prompt = page.getByRole('alert').filter({ hasText: 'rejected its token' });
    await prompt.waitFor({ timeout: 10_000 });
    expect(suite.stack.requestLog.filter((line) => line === `WS /ws/image-generation/${taskId}`)).toHaveLength(1);
    await page.getByPlaceholder('New token').fill(imagegen.devToken);
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('transport').textContent(), { timeout: 10_000 }).toMatch(/live/);
    // the task starts only now, as the image guide has it: the socket first, then the POST
    const started = await fetch(`${imagegen.url}/api/media/generate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${imagegen.devToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'After a new token', task_id: taskId }),
    });
    expect(started.ok).toBe(true);
    await waitForStatus(page, 'completed');
    expect(suite.stack.requestLog.filter((line) => line === `WS /ws/image-generation/${taskId}`)).toHaveLength(2);
    expect(await prompt.count()).toBe(0);
  });

  it('a token given after a 401 survives a reload only when the operator asks, and then in session storage only', async () => {
    const { platform } = suite.stack;
    const badApp = await suite.stack.appWithToken('expired-or-revoked-token');
    const jobId = platform.startGeneration({ prompt: 'Needs a new token', __durationMs: 6000, __fail: false });
    const prompt = (page: Page) => page.getByRole('alert').filter({ hasText: 'rejected its token' });

    const page = await suite.freshPage();
    await page.goto(jobUrl(badApp, 'codebegen-demo', jobId));
    await prompt(page).waitFor({ timeout: 10_000 });
    await page.getByPlaceholder('New token').fill(platform.devToken);
    await page.getByLabel('Keep it for this tab until it closes (session storage)').check();
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('transport').textContent(), { timeout: 10_000 }).toMatch(/live/);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain(platform.devToken);
    expect(await page.evaluate(() => Object.values({ ...sessionStorage }))).toContain(platform.devToken);
    await page.reload();
    await waitForStatus(page, 'completed');
    expect(await prompt(page).count()).toBe(0);
    await page.goto(`${badApp}/sources`);
    await page.getByRole('button', { name: 'Forget after reload' }).click();
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(platform.devToken);

    // not asked to keep it: a reload forgets it and asks again, once
    const other = await suite.freshPage();
    const second = platform.startGeneration({ prompt: 'Needs a new token again', __durationMs: 6000, __fail: false });
    await other.goto(jobUrl(badApp, 'codebegen-demo', second));
    await prompt(other).waitFor({ timeout: 10_000 });
    await other.getByPlaceholder('New token').fill(platform.devToken);
    await other.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => other.getByTestId('transport').textContent(), { timeout: 10_000 }).toMatch(/live/);
    expect(await other.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(platform.devToken);
    await other.reload();
    await prompt(other).waitFor({ timeout: 10_000 });
  });
});

describe('a flood', () => {
  it('50,000 events/s for 10 s on one stream: the page answers keys throughout, the job ends current', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'A flooded stream', __durationMs: 11_000, __fail: false });
    await inject(platform.url, { kind: 'flood', rate: 50_000, seconds: 10, job: jobId, times: 1 });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 10_000 }).toMatch(/^Flood \d+/);
    // in the thick of it, the page still answers: the key list opens and closes
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('?');
      await page.getByRole('dialog').waitFor({ timeout: 5000 });
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'hidden', timeout: 5000 });
      await page.waitForTimeout(1000);
    }
    await waitForStatus(page, 'completed', 40_000);
    expect(await page.getByTestId('message').textContent()).toBe('✅ Generation completed successfully!');
  });
});

describe('broken numbers', () => {
  it('image progress that is null, negative, over the scale, a string or going backwards: clamped or rejected, the charts still draw', async () => {
    const { imagegen } = suite.stack;
    await inject(imagegen.url, { kind: 'bad-numbers', times: 1 });
    const page = await suite.freshPage();
    await page.goto(suite.stack.appUrl);
    await page.getByRole('button', { name: 'New generation' }).click();
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Image generation (demo) (Image generation)' });
    await page.getByLabel('Prompt').fill('Numbers gone wrong');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/\/jobs\//);
    const progress = async () => Number(await page.getByRole('progressbar').first().getAttribute('aria-valuenow'));
    let last = 0;
    // progress stays on the scale and never goes back, while the broken copies keep coming
    for (let i = 0; i < 10; i++) {
      const now = await progress();
      expect(now).toBeGreaterThanOrEqual(last);
      expect(now).toBeLessThanOrEqual(100);
      last = now;
      await page.waitForTimeout(150);
    }
    await waitForStatus(page, 'completed');
    await expect.poll(() => page.getByText(/invalid messages? skipped/).count()).toBe(1);
    // both charts are drawn, and the rates they report are numbers
    await page.getByText('Estimated against actual remaining time').waitFor();
    expect(await page.locator('.chart canvas').count()).toBe(2);
    const rates = await page.getByRole('list', { name: 'Steps per second' }).textContent();
    expect(rates).toMatch(/\d+\.\d\d steps\/s/);
    expect(rates).not.toMatch(/NaN|Infinity/);
  });
});
