import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { headerStatus, startFromForm } from './suite';

/** More tabs in the browser (context) of `first`, each with `url` open; page errors go to `errors`. */
export async function tabsBeside(first: Page, count: number, url: string, errors: string[]): Promise<Page[]> {
  const tabs: Page[] = [];
  for (let index = 0; index < count; index++) {
    const tab = await first.context().newPage();
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(url);
    tabs.push(tab);
  }
  return tabs;
}

/** what the connections page says holds the browser's platform connections: this tab, another tab, or the feed worker */
export async function feedHolder(tab: Page): Promise<'holds' | 'shows' | 'worker' | null> {
  await tab.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
  const text = await tab.getByTestId('tab-role').textContent();
  if (text?.includes('This tab holds')) return 'holds';
  if (text?.includes('feed worker holds')) return 'worker';
  return text?.includes('another tab') ? 'shows' : null;
}

/**
 * Starts counting, in a tab, what the tabs' channel carries from whatever holds the feeds: by
 * message type, with the events the worker's batches carry for the logs of jobs open somewhere.
 */
export async function watchFeedChannel(tab: Page): Promise<void> {
  await tab.evaluate(() => {
    const counts: Record<string, number> = {};
    const logged = new Set<string>();
    const channel = new BroadcastChannel('genwatch-feeds');
    channel.onmessage = ({ data }: MessageEvent<{ type: string; batch?: { log: { key: string }[] } }>) => {
      counts[data.type] = (counts[data.type] ?? 0) + 1;
      for (const event of data.batch?.log ?? []) logged.add(event.key);
    };
    (window as unknown as { feedChannel: unknown }).feedChannel = { counts, logged };
  });
}

/** what `watchFeedChannel` counted */
export async function feedChannel(tab: Page): Promise<{ counts: Record<string, number>; logged: string[] }> {
  return tab.evaluate(() => {
    const { counts, logged } = (window as unknown as { feedChannel: { counts: Record<string, number>; logged: Set<string> } }).feedChannel;
    return { counts: { ...counts }, logged: [...logged] };
  });
}

/** the stages of the platform's update events in the open job's log, oldest first (without genwatch's own: its lookup of the id, what a listing said) */
export async function loggedStages(page: Page): Promise<string[]> {
  await page.getByLabel('Filter events by kind').selectOption('update');
  const stages = await page.locator('.log__list .entry__kind').allTextContents();
  return stages.reverse().filter((stage) => stage !== 'lookup' && stage !== 'listing');
}

/** the number of update events in the open job's log */
export async function loggedUpdates(page: Page): Promise<number> {
  await page.getByLabel('Filter events by kind').selectOption('update');
  const count = (await page.locator('.log__count').textContent()) ?? '';
  return Number(count.split(' of ')[0]);
}

/** the addresses this page's own main thread fetched outside the dashboard's origin (a worker's requests are its own) */
export function fetchedElsewhere(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => entry.name)
      .filter((name) => new URL(name).origin !== location.origin),
  );
}

/** `first` with the board at `url`, and `count` more tabs of its browser beside it, each with the board on screen */
export async function boardTabs(first: Page, count: number, url: string, errors: string[]): Promise<Page[]> {
  await first.goto(url);
  await first.getByRole('table', { name: 'Jobs' }).waitFor();
  const tabs = [first, ...(await tabsBeside(first, count, url, errors))];
  for (const tab of tabs) await tab.getByRole('table', { name: 'Jobs' }).waitFor();
  return tabs;
}

/** in every tab, the row of every job of `keys` comes to say `status` (a pattern: /running|completed/) */
export async function rowsReach(tabs: readonly Page[], keys: readonly string[], status: RegExp, timeout: number): Promise<void> {
  for (const tab of tabs) {
    for (const key of keys) {
      const row = tab.locator(`tbody tr[data-job="${key}"]`);
      await expect.poll(() => row.textContent(), { timeout }).toMatch(status);
    }
  }
}

/** A Takoss job launched from `from`, running there and its row (with its name) in every other tab: its key. */
export async function launchSeenByAll(from: Page, tabs: readonly Page[], project: { name: string; requirements: string }): Promise<string> {
  await startFromForm(from, 'Takoss (demo) (Takoss)', {
    'Project name': project.name,
    Description: 'Seen by all eight tabs',
    Requirements: project.requirements,
  });
  const key = decodeURIComponent(new URL(from.url()).pathname.replace('/jobs/', ''));
  await expect.poll(() => headerStatus(from).textContent(), { timeout: 10_000 }).toBe('running');
  for (const tab of tabs.filter((tab) => tab !== from)) {
    const row = tab.locator(`tbody tr[data-job="${key}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain(project.name);
  }
  return key;
}
