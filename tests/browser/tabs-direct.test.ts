import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, headerStatus, jobUrl, startFromForm, waitForStatus } from '../support/suite';
import { boardTabs, feedHolder as tabRole, launchSeenByAll, loggedStages, loggedUpdates, rowsReach, tabsBeside } from '../support/tabs';

// Many tabs of one browser without SharedWorker, on the platforms themselves: one tab holds the
// feed layer (elected with a Web Lock), with one stream budget per origin for the whole browser,
// and every other tab shows what its feeds bring; when that tab closes the next one takes over.

const suite = browserSuite({ codebegen: { jobDurationMs: 9000 }, takoss: { jobDurationMs: 5000 } });

/** A page of a browser without SharedWorker (as Chrome on Android): its tabs share the feeds through a Web Lock. */
async function pageWithoutWorkers(): Promise<Page> {
  const page = await suite.freshPage();
  await page.context().addInitScript(() => Object.defineProperty(window, 'SharedWorker', { value: undefined, configurable: true }));
  return page;
}

describe('tabs of one browser on the platforms themselves', () => {
  it('8 tabs: every tab live with every job, one stream budget for the browser, a launch from tab 5 in all at once', async () => {
    const { platform, smartforge } = suite.stack;
    // as many as the origin's stream budget: a polled job goes quiet between polls, in one tab as in eight
    const prompts = Array.from({ length: 4 }, (_, index) => `Watched by eight tabs ${index + 1}`);
    const errors: string[] = [];
    const tabs = await boardTabs(await pageWithoutWorkers(), 7, suite.stack.appUrl, errors);
    const keys = prompts.map((prompt) => `codebegen-demo/${platform.startGeneration({ prompt })}`);

    // every tab shows every job running, live
    await rowsReach(tabs, keys, /running|completed/, 15_000);
    for (const tab of tabs) expect(await tab.getByTestId('health-banner').count()).toBe(0);
    // the last tab only shows: its connections page lists the feeds of the tab that holds them
    const last = tabs[7];
    expect(await tabRole(last)).toBe('shows');
    await expect
      .poll(() => last.getByRole('table', { name: 'Connections' }).locator('tbody tr').count(), { timeout: 5000 })
      .toBeGreaterThanOrEqual(keys.length);
    await last.goBack();

    const fifth = tabs[4];
    await launchSeenByAll(fifth, tabs, { name: 'Launched from tab five', requirements: 'One feed layer for the browser' });
    await waitForStatus(fifth, 'completed');
    await fifth.goBack();
    await rowsReach(tabs, keys, /completed/, 20_000);

    // one stream budget for the browser, whatever the number of tabs (per tab, the streams alone reach six, the cap):
    // four streams and at most two requests at once, so a request never waits behind a stream
    expect(platform.stats().peakStreams).toBeLessThanOrEqual(4);
    expect(smartforge.stats().peakStreams).toBeLessThanOrEqual(4);
    const roles: (string | null)[] = [];
    for (const tab of tabs) roles.push(await tabRole(tab));
    expect(roles.filter((role) => role === 'holds')).toHaveLength(1);
    expect(roles.filter((role) => role === 'shows')).toHaveLength(7);
    expect(errors).toEqual([]);
  }, 150_000);

  it('the tab holding the feeds closed mid-job: the others carry on, the job page with every update once', async () => {
    const { platform } = suite.stack;
    const errors: string[] = [];
    const [leader, board, viewer] = await boardTabs(await pageWithoutWorkers(), 2, suite.stack.appUrl, errors);

    const id = platform.startGeneration({ prompt: 'Watched by three tabs, one of them closed' });
    const key = `codebegen-demo/${id}`;
    await viewer.goto(`${suite.stack.appUrl}/jobs/${key}`);
    await expect.poll(() => headerStatus(viewer).textContent(), { timeout: 10_000 }).toBe('running');
    await expect.poll(() => loggedUpdates(viewer), { timeout: 10_000 }).toBeGreaterThan(2);

    await leader.close();
    await waitForStatus(viewer, 'completed');
    const row = board.locator(`tbody tr[data-job="${key}"]`);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('completed');

    // every update the platform sent, once: nothing lost in the handover, nothing repeated
    const sent = platform.eventsOf(id).map((event: { stage: string }) => event.stage.replaceAll('_', ' '));
    await expect.poll(() => loggedStages(viewer), { timeout: 5000 }).toEqual(sent);
    expect([await tabRole(board), await tabRole(viewer)].sort()).toEqual(['holds', 'shows']);
    expect(errors).toEqual([]);
  }, 90_000);

  it('a tab that only shows: a token it is given and a cancel it asks for are carried out by the tab holding the feeds', async () => {
    const { platform } = suite.stack;
    const badApp = await suite.stack.appWithToken('expired-or-revoked-token');
    const leader = await pageWithoutWorkers();
    await leader.goto(badApp);
    await leader.getByRole('table', { name: 'Jobs' }).waitFor();
    const errors: string[] = [];
    const viewer = await leader.context().newPage();
    viewer.on('pageerror', (error) => errors.push(error.message));
    const jobId = platform.startGeneration({ prompt: 'Needs a new token, given in another tab', __durationMs: 6000, __fail: false });
    await viewer.goto(jobUrl(badApp, 'codebegen-demo', jobId));
    await viewer.getByRole('alert').filter({ hasText: 'rejected its token' }).waitFor({ timeout: 10_000 });
    await viewer.getByPlaceholder('New token').fill(platform.devToken);
    await viewer.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => viewer.getByTestId('transport').textContent(), { timeout: 10_000 }).toMatch(/live/);
    await waitForStatus(viewer, 'completed');
    // not asked to keep it: in neither tab's storage, and in no URL the app wrote
    for (const tab of [leader, viewer]) {
      expect(await tab.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(platform.devToken);
      expect(tab.url()).not.toContain(platform.devToken);
    }

    await viewer.goto(badApp);
    await startFromForm(viewer, 'Takoss (demo) (Takoss)', { 'Project name': 'Cancelled from a tab that only shows', Description: 'x', Requirements: 'y' });
    await viewer.getByRole('button', { name: 'Cancel generation' }).click();
    await waitForStatus(viewer, 'cancelled');
    const row = leader.locator(`tbody tr[data-job="${decodeURIComponent(new URL(viewer.url()).pathname.replace('/jobs/', ''))}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('cancelled');
    expect(await tabRole(viewer)).toBe('shows');
    expect(errors).toEqual([]);
  }, 60_000);

  it('a tab that crashed, with no goodbye: the job it had open stops counting as open', async () => {
    const { platform } = suite.stack;
    // one stream for the origin: it goes to a job open in a tab, and moves only to one open in a tab that outranks it
    const app = await suite.stack.appWithBudget(1);
    const leader = await pageWithoutWorkers();
    await leader.goto(app);
    await leader.getByRole('table', { name: 'Jobs' }).waitFor();
    const [first, second] = [0, 1].map((index) => platform.startGeneration({ prompt: `Open in a tab ${index + 1}`, __durationMs: 40_000, __fail: false }));
    const crashing = await leader.context().newPage();
    await crashing.goto(jobUrl(app, 'codebegen-demo', first));
    await expect.poll(() => crashing.getByTestId('transport').textContent(), { timeout: 10_000 }).toMatch(/stream/);
    // the tab goes without a word to the others, as a crashed renderer does
    await crashing.evaluate(() => (BroadcastChannel.prototype.postMessage = () => undefined));
    await crashing.close();

    const viewer = await leader.context().newPage();
    await viewer.goto(jobUrl(app, 'codebegen-demo', second));
    await expect.poll(() => viewer.getByTestId('transport').textContent(), { timeout: 15_000 }).toMatch(/stream/);
    expect(await tabRole(viewer)).toBe('shows');
  }, 60_000);

  it('the tab holding the feeds a minute in the background: the tab in front takes them over, every update once', async () => {
    const { platform } = suite.stack;
    const background = await pageWithoutWorkers();
    await background.goto(suite.stack.appUrl);
    await background.getByRole('table', { name: 'Jobs' }).waitFor();
    const errors: string[] = [];
    const front = await background.context().newPage();
    front.on('pageerror', (error) => errors.push(error.message));
    const id = platform.startGeneration({ prompt: 'Outlives a minute in the background', __durationMs: 75_000, __fail: false });
    await front.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', id));
    await expect.poll(() => headerStatus(front).textContent(), { timeout: 10_000 }).toBe('running');
    // the operator works in the newer tab: the first goes into the background (as a tab switch does)
    await background.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await waitForStatus(front, 'completed', 90_000);
    const sent = platform.eventsOf(id).map((event: { stage: string }) => event.stage.replaceAll('_', ' '));
    await expect.poll(() => loggedStages(front), { timeout: 5000 }).toEqual(sent);
    expect(await tabRole(front)).toBe('holds');
    // the tab in the background shows what the other brings now
    const row = background.locator(`tbody tr[data-job="codebegen-demo/${id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('completed');
    expect(await tabRole(background)).toBe('shows');
    expect(errors).toEqual([]);
  }, 120_000);

  it('a browser without Web Locks: each tab follows the platforms itself, and every tab is live', async () => {
    const { platform } = suite.stack;
    const first = await suite.freshPage();
    await first.context().addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { value: undefined, configurable: true }));
    await first.goto(suite.stack.appUrl);
    const errors: string[] = [];
    const [second] = await tabsBeside(first, 1, suite.stack.appUrl, errors);
    const id = platform.startGeneration({ prompt: 'Watched by two tabs that cannot share' });
    for (const tab of [first, second]) {
      const row = tab.locator(`tbody tr[data-job="codebegen-demo/${id}"]`);
      await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('completed');
    }
    await second.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    await second.getByRole('table', { name: 'Stream budget per origin' }).waitFor();
    expect(await second.getByTestId('tab-role').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
