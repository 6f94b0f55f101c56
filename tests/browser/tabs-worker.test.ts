import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, headerStatus, jobUrl, waitForStatus } from '../support/suite';
import {
  boardTabs,
  feedChannel,
  feedHolder,
  fetchedElsewhere,
  launchSeenByAll,
  loggedStages,
  loggedUpdates,
  rowsReach,
  watchFeedChannel,
} from '../support/tabs';

// Many tabs of one browser with SharedWorker, on the platforms themselves: the feed layer runs
// once, in the browser's feed worker, with one stream budget per origin for the whole browser;
// every tab only renders what it sends, and fetches nothing from a platform itself.

const suite = browserSuite({ codebegen: { jobDurationMs: 9000 }, takoss: { jobDurationMs: 5000 } });

/** the platform's stages of a CodeBegen job, as the log names them */
const stagesSent = (id: string) => suite.stack.platform.eventsOf(id).map((event: { stage: string }) => event.stage.replaceAll('_', ' '));

/** Ends the browser's feed worker as a crash would: its locks go, its connections close. */
async function killFeedWorker(page: Page): Promise<void> {
  const cdp = await page.context().browser()!.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const workers = targetInfos.filter((target) => target.type === 'shared_worker' && target.title === 'genwatch-feeds');
  expect(workers).toHaveLength(1);
  await cdp.send('Target.closeTarget', { targetId: workers[0].targetId });
  await cdp.detach();
}

describe('tabs of one browser sharing the feed worker', () => {
  it('8 tabs: every tab live, one stream budget, no platform request from any page, a launch from tab 5 in all at once', async () => {
    const { platform, smartforge } = suite.stack;
    const prompts = Array.from({ length: 4 }, (_, index) => `Watched through the worker ${index + 1}`);
    const errors: string[] = [];
    const tabs = await boardTabs(await suite.freshPage(), 7, suite.stack.appUrl, errors);
    await watchFeedChannel(tabs[1]);
    platform.resetPeakConnections();
    smartforge.resetPeakConnections();
    const keys = prompts.map((prompt) => `codebegen-demo/${platform.startGeneration({ prompt })}`);

    await rowsReach(tabs, keys, /running|completed/, 15_000);
    for (const tab of tabs) expect(await tab.getByTestId('health-banner').count()).toBe(0);
    // the connections page of any tab lists the worker's feeds
    const last = tabs[7];
    expect(await feedHolder(last)).toBe('worker');
    await expect
      .poll(() => last.getByRole('table', { name: 'Connections' }).locator('tbody tr').count(), { timeout: 5000 })
      .toBeGreaterThanOrEqual(keys.length);
    await last.goBack();

    const fifth = tabs[4];
    await launchSeenByAll(fifth, tabs, { name: 'Launched from tab five, run by the worker', requirements: 'One feed layer for the browser' });
    await waitForStatus(fifth, 'completed');
    await fifth.goBack();
    await rowsReach(tabs, keys, /completed/, 20_000);

    expect(platform.stats().peakStreams).toBeLessThanOrEqual(4);
    expect(smartforge.stats().peakStreams).toBeLessThanOrEqual(4);
    // four streams and one request at a time: the browser's six connections per origin are never all taken
    expect(platform.stats().peakConnections).toBeLessThanOrEqual(5);
    expect(smartforge.stats().peakConnections).toBeLessThanOrEqual(5);
    // no page reads a platform: every wire message is parsed and checked in the worker
    for (const tab of tabs) expect(await fetchedElsewhere(tab)).toEqual([]);
    // nor reduces one: the worker sends each changed job reduced, and events only for the log of the job open (tab 5's launch)
    const carried = await feedChannel(tabs[1]);
    expect(carried.counts.jobs).toBeGreaterThan(10);
    expect(carried.counts.events ?? 0).toBe(0);
    expect(carried.logged).toHaveLength(1);
    expect(keys).not.toContain(carried.logged[0]);
    const holders: (string | null)[] = [];
    for (const tab of tabs) holders.push(await feedHolder(tab));
    expect(holders).toEqual(tabs.map(() => 'worker'));
    expect(errors).toEqual([]);
  }, 150_000);

  it('the first tab closed mid-job: the worker goes on for the others, the job page with every update once', async () => {
    const { platform } = suite.stack;
    const errors: string[] = [];
    const [first, board, viewer] = await boardTabs(await suite.freshPage(), 2, suite.stack.appUrl, errors);
    const id = platform.startGeneration({ prompt: 'Outlives the tab that started the worker' });
    await viewer.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', id));
    await expect.poll(() => headerStatus(viewer).textContent(), { timeout: 10_000 }).toBe('running');
    await expect.poll(() => loggedUpdates(viewer), { timeout: 10_000 }).toBeGreaterThan(2);

    await first.close();
    await waitForStatus(viewer, 'completed');
    const row = board.locator(`tbody tr[data-job="codebegen-demo/${id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('completed');
    await expect.poll(() => loggedStages(viewer), { timeout: 5000 }).toEqual(stagesSent(id));
    expect([await feedHolder(board), await feedHolder(viewer)]).toEqual(['worker', 'worker']);
    expect(errors).toEqual([]);
  }, 90_000);

  it('the worker gone mid-job: a tab takes the feeds over, resumes after what it has, every update once', async () => {
    const { platform } = suite.stack;
    const errors: string[] = [];
    const [board, viewer] = await boardTabs(await suite.freshPage(), 1, suite.stack.appUrl, errors);
    const id = platform.startGeneration({ prompt: 'Outlives the feed worker', __durationMs: 12_000, __fail: false });
    await viewer.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', id));
    await expect.poll(() => loggedUpdates(viewer), { timeout: 10_000 }).toBeGreaterThan(2);

    await killFeedWorker(viewer);
    await waitForStatus(viewer, 'completed', 30_000);
    await expect.poll(() => loggedStages(viewer), { timeout: 5000 }).toEqual(stagesSent(id));
    const row = board.locator(`tbody tr[data-job="codebegen-demo/${id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('completed');
    // one of the two tabs holds the feeds now, the other shows them
    expect([await feedHolder(board), await feedHolder(viewer)].sort()).toEqual(['holds', 'shows']);
    expect(errors).toEqual([]);
  }, 90_000);

  it('every tab closed, then the dashboard opened again: a new worker picks up the running job from the history', async () => {
    const { platform } = suite.stack;
    const first = await suite.freshPage();
    const context = first.context();
    const id = platform.startGeneration({ prompt: 'Outlives every tab', __durationMs: 10_000, __fail: false });
    await first.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', id));
    await expect.poll(() => loggedUpdates(first), { timeout: 10_000 }).toBeGreaterThan(1);
    // the operator keeps the browser and closes the dashboard: its worker ends with its last tab
    const blank = await context.newPage();
    await first.close();
    const again = await context.newPage();
    await again.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', id));
    await waitForStatus(again, 'completed', 30_000);
    await expect.poll(() => loggedStages(again), { timeout: 5000 }).toEqual(stagesSent(id));
    expect(await feedHolder(again)).toBe('worker');
    await blank.close();
  }, 60_000);
});
