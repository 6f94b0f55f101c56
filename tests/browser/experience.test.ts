import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, headerStatus, jobUrl } from '../support/suite';

// The operator's day: shareable filtered boards, keys, history across reloads, replays,
// accessibility.

const suite = browserSuite({
  codebegen: { jobDurationMs: 3000, heartbeatMs: 1000 },
  smartforge: { jobDurationMs: 3000, heartbeatMs: 1000 },
  imagegen: { stepMs: 60, keepAliveMs: 1000 },
});

const finalStatus = (page: Page, status: string, timeout = 30_000) => expect.poll(() => headerStatus(page).textContent(), { timeout }).toBe(status);

/** Messages of the CodeBegen stream events the job's log lists. */
async function loggedMessages(page: Page): Promise<string[]> {
  await page.getByLabel('Filter events by kind').selectOption('update');
  const entries = await page.locator('li.entry--update').evaluateAll((elements) =>
    elements.map((element) => ({ kind: element.querySelector('.entry__kind')?.textContent ?? '', text: element.querySelector('.entry__text')?.textContent ?? '' })),
  );
  return entries.filter((entry) => !['status', 'listing', 'started'].includes(entry.kind)).map((entry) => entry.text.split(' · ').at(-1) ?? '');
}

describe('history', () => {
  it('a reload mid-job keeps every event and resumes live', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'reloaded halfway', __durationMs: 6000, __fail: false });
    const page = await suite.freshPage();
    await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
    await expect.poll(async () => Number(await page.getByRole('progressbar', { name: /^Progress of/ }).getAttribute('aria-valuenow')), { timeout: 10_000 }).toBeGreaterThan(30);
    await page.waitForTimeout(400); // the history writes what arrived
    await page.reload();
    // at once, from history: the job and the stages it had passed
    await expect.poll(() => page.getByRole('list', { name: 'Stages' }).getByRole('listitem').count(), { timeout: 3000 }).toBeGreaterThan(2);
    await finalStatus(page, 'completed');
    const sent = platform.eventsOf(jobId).map((event: { message: string }) => event.message);
    await expect.poll(async () => (await loggedMessages(page)).length).toBe(sent.length);
    const shown = await loggedMessages(page);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.slice().sort()).toEqual(sent.slice().sort());
  });
});
