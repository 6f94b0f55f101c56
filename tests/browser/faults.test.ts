import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, inject, headerStatus, jobUrl, loggedStreamMessages, waitForStatus } from '../support/suite';

// Every fault the demo platforms can inject, against the built app in Chromium: the job ends
// in the right state, its timeline has each event once, and nothing throws in the page.

const suite = browserSuite({
  wire: 'guide',
  codebegen: { jobDurationMs: 3000, heartbeatMs: 500 },
  smartforge: { jobDurationMs: 3000, heartbeatMs: 500 },
  imagegen: { stepMs: 60, keepAliveMs: 500 },
});

const finalStatus = waitForStatus;
const logKinds = (page: Page) => page.locator('li.entry .entry__kind').allTextContents();

/** Starts a CodeBegen generation with a fault for its streams, opens it, and waits for its end. */
async function watchCodebegen(fault: Record<string, unknown>, { durationMs = 3000, everyEvent = true } = {}) {
  const { platform } = suite.stack;
  const jobId = platform.startGeneration({ prompt: `under fault ${String(fault.kind)}`, __durationMs: durationMs, __fail: false });
  await inject(platform.url, { ...fault, job: jobId });
  const page = await suite.freshPage();
  await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
  await finalStatus(page, 'completed');
  const sent = platform.eventsOf(jobId).map((event: { message: string }) => event.message);
  await expect.poll(async () => (await loggedStreamMessages(page)).length >= (everyEvent ? sent.length : 0)).toBe(true);
  const shown = await loggedStreamMessages(page);
  expect(shown.length, 'no event shown twice').toBe(new Set(shown).size);
  if (everyEvent) expect(shown.slice().sort()).toEqual(sent.slice().sort());
  expect(await page.getByTestId('message').textContent()).toBe('✅ Generation completed successfully!');
  return { page, jobId, streamRequests: () => suite.stack.requestLog.filter((line) => line === `GET /api/v2/generation/${jobId}/stream`).length };
}

describe('SSE faults (CodeBegen)', () => {
  it('a stream closed after 3 events, twice: resumed with Last-Event-ID, every event once', async () => {
    const { streamRequests } = await watchCodebegen({ kind: 'close-after', events: 3, times: 2 });
    expect(streamRequests()).toBeGreaterThanOrEqual(3);
  });

  it('a reset connection, twice: reconnected, every event once', async () => {
    await watchCodebegen({ kind: 'reset', times: 2 });
  });

  it('a stalled stream (open, silent): seen dead after 3 heartbeats, reconnected', async () => {
    const { page } = await watchCodebegen({ kind: 'stall', times: 1 }, { durationMs: 4000 });
    await page.getByLabel('Filter events by kind').selectOption('link');
    expect(await page.locator('li.entry--link', { hasText: 'the connection looks dead' }).count()).toBe(1);
  });

  it('503 twice: retried with backoff, every event once', async () => {
    await watchCodebegen({ kind: 'status', status: 503, times: 2 });
  });

  it('429 with Retry-After: retried no sooner than asked', async () => {
    const { page } = await watchCodebegen({ kind: 'status', status: 429, retry_after: 1, times: 1 });
    await page.getByLabel('Filter events by kind').selectOption('link');
    const retry = await page.locator('li.entry--link', { hasText: '429' }).first().textContent();
    const seconds = Number(/reconnect 1 in ([\d.]+) s/.exec(retry ?? '')?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(1);
  });

  it('204: the stream is over; the job is finished from its status', async () => {
    const { page } = await watchCodebegen({ kind: 'status', status: 204, times: 1 }, { everyEvent: false });
    await page.getByLabel('Filter events by kind').selectOption('all');
    expect(await logKinds(page)).toContain('status');
  });

  it('an HTML page instead of a stream: never parsed, the job is polled to its end', async () => {
    const { page } = await watchCodebegen({ kind: 'html', times: 1 }, { everyEvent: false });
    await page.getByLabel('Filter events by kind').selectOption('all');
    expect(await page.locator('li.entry--link', { hasText: 'Expected an event stream but got text/html' }).count()).toBeGreaterThan(0);
    expect(await page.locator('li.entry--protocol-error').count()).toBe(0);
  });

  it('malformed JSON: counted and shown, the job goes on with every real event', async () => {
    const { page } = await watchCodebegen({ kind: 'malformed', times: 1 });
    await page.getByLabel('Filter events by kind').selectOption('protocol-error');
    expect(await page.locator('li.entry--protocol-error').count()).toBe(1);
    expect(await page.getByText('1 invalid message skipped').count()).toBe(1);
  });

  it('every event sent twice: the repeats are dropped and counted', async () => {
    const { page } = await watchCodebegen({ kind: 'duplicate' });
    await page.getByLabel('Filter events by kind').selectOption('integrity');
    expect((await logKinds(page)).filter((kind) => kind === 'duplicate').length).toBeGreaterThan(5);
  });

  it('events out of order: put back in order, stages in the right sequence', async () => {
    const { page } = await watchCodebegen({ kind: 'out-of-order' });
    const stages = await page.getByRole('list', { name: 'Stages' }).getByRole('listitem').allTextContents();
    expect(stages.map((stage) => stage.split(/\d/)[0].trim())).toEqual([
      'initializing',
      'schema extraction',
      'code generation',
      'code review',
      'documentation',
      'finalizing',
      'completed',
    ]);
  });

  it('bytes dripped one at a time: every event, emoji intact', async () => {
    await watchCodebegen({ kind: 'drip', delay_ms: 1 }, { durationMs: 6000 });
  });

  it('events and multi-byte characters split across chunks: every event, emoji intact', async () => {
    const { page } = await watchCodebegen({ kind: 'split' });
    expect((await loggedStreamMessages(page)).filter((message) => message.startsWith('📝 Generating API endpoints')).length).toBeGreaterThan(3);
  });

  it('a platform restart that loses its replay buffer: the gap is counted and filled from status', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'restart midway', __durationMs: 6000, __fail: false });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await expect.poll(() => headerStatus(page).textContent()).toBe('running');
    await page.waitForTimeout(800);
    await inject(platform.url, { kind: 'restart', down_ms: 1500 });
    await finalStatus(page, 'completed');
    await page.getByLabel('Filter events by kind').selectOption('integrity');
    expect((await logKinds(page)).filter((kind) => kind === 'gap').length).toBeGreaterThanOrEqual(1);
    const shown = await loggedStreamMessages(page);
    expect(shown.length).toBe(new Set(shown).size);
  });

  it('401 mid-way: asks once for a new token, stops until given, then resumes', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'token expires', __durationMs: 4000, __fail: false });
    await inject(platform.url, { kind: 'status', status: 401, job: jobId, times: 1 });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    const prompt = page.getByRole('textbox', { name: 'New token for CodeBegen (demo)' });
    await prompt.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(1500);
    const requests = suite.stack.requestLog.filter((line) => line === `GET /api/v2/generation/${jobId}/stream`).length;
    expect(requests).toBe(1); // no retry loop while waiting for the operator
    await prompt.fill(platform.devToken);
    await page.getByRole('button', { name: 'Use token' }).click();
    await finalStatus(page, 'completed');
    expect(await prompt.count()).toBe(0);
  });
});

describe('the network comes and goes', () => {
  it('offline then online: current again within a second of coming back', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'offline for a while', __durationMs: 12_000, __fail: false });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    const transport = page.locator('header [data-testid="transport"]');
    await expect.poll(() => transport.textContent()).toBe('live · stream');
    await page.context().setOffline(true);
    // going offline does not cut a loopback connection: a restart of the platform does
    await inject(platform.url, { kind: 'restart', down_ms: 0 });
    await expect.poll(() => transport.textContent(), { timeout: 8000 }).toMatch(/reconnecting|stale/);
    await page.waitForTimeout(3000);
    expect(await transport.textContent()).toMatch(/reconnecting|stale/); // still trying to stream, not given up
    await page.context().setOffline(false);
    const back = Date.now();
    await expect.poll(() => transport.textContent(), { timeout: 3000, interval: 50 }).toBe('live · stream');
    expect(Date.now() - back).toBeLessThan(1500);
    await finalStatus(page, 'completed');
    const shown = await loggedStreamMessages(page);
    expect(shown.length).toBe(new Set(shown).size);
    expect(shown.length).toBe(platform.eventsOf(jobId).length);
  });
});

describe('faults on other platforms', () => {
  it('Smart Forge, every event twice: code chunks are not doubled', async () => {
    const { smartforge } = suite.stack;
    await inject(smartforge.url, { kind: 'duplicate' });
    try {
      const projectId = smartforge.startProject('REST API for a bookstore', { durationMs: 3000 });
      const page = await suite.freshPage();
      await page.goto(jobUrl(suite.stack.appUrl, 'smartforge-demo', projectId));
      await finalStatus(page, 'completed');
      await page.getByRole('button', { name: /^index\.js/ }).click();
      const code = await page.getByTestId('code').textContent();
      expect(code!.match(/app\.use\(express\.json\(\)\);/g)).toHaveLength(1);
    } finally {
      await fetch(`${smartforge.url}/__faults`, { method: 'DELETE' });
    }
  });

  it('image socket closed with 1011: reconnected and finished', async () => {
    const page = await suite.freshPage();
    await page.goto(suite.stack.appUrl);
    await inject(suite.stack.imagegen.url, { kind: 'ws-close', code: 1011, events: 5, times: 1 });
    await page.getByRole('button', { name: 'New generation' }).click();
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Image generation (demo) (Image generation)' });
    await page.getByLabel('Prompt').fill('Socket drops once');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/\/jobs\//);
    await finalStatus(page, 'completed');
    await page.getByLabel('Filter events by kind').selectOption('link');
    expect(await page.locator('li.entry--link', { hasText: '1011' }).count()).toBeGreaterThan(0);
  });

  it('image socket closed with 1008 (policy): stopped with the reason, no loop', async () => {
    const taskId = `task-policy-${Date.now()}`;
    await inject(suite.stack.imagegen.url, { kind: 'ws-close', code: 1008, events: 0, job: taskId });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'imagegen-demo', taskId));
    const error = page.getByTestId('link-error');
    await error.waitFor({ timeout: 10_000 });
    expect(await error.textContent()).toContain('1008');
    await page.waitForTimeout(1500);
    expect(suite.stack.requestLog.filter((line) => line === `WS /ws/image-generation/${taskId}`)).toHaveLength(1);
  });
});
