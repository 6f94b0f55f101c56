import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAppServer } from '../../server/app-server.js';
import { startRelayWith } from '../../relay/main';
import { startNats } from '../support/nats';
import { relayApi } from '../support/relayStream';
import { DIST } from '../support/stack';
import { browserSuite, headerStatus, waitForStatus } from '../support/suite';
import { boardTabs, launchSeenByAll, rowsReach, tabsBeside } from '../support/tabs';

// Many tabs of one browser behind a relay: one stream to the relay for all of them, held by one
// tab (elected with a Web Lock) and shared over a BroadcastChannel; when that tab closes the
// next one takes the stream over from where it left off.

const suite = browserSuite({ codebegen: { jobDurationMs: 8000 }, takoss: { jobDurationMs: 5000 } });

const TOKEN = 'browser-tabs-token-0123456789';
const FAST = { reconnect: { baseMs: 200, maxMs: 1000, maxReconnects: 3 }, pollIntervalMs: 500 };
let nats: Awaited<ReturnType<typeof startNats>>;
let relay: Awaited<ReturnType<typeof startRelayWith>>;
let app: Awaited<ReturnType<typeof startAppServer>>;

beforeAll(async () => {
  nats = await startNats();
  relay = await startRelayWith({
    sources: suite.stack.sources(),
    token: TOKEN,
    nats: nats.url,
    relayId: 'tabs',
    leaseSeconds: 2,
    feed: FAST,
    discoveryIntervalMs: 500,
  });
  app = await startAppServer({
    root: DIST,
    sources: async () => JSON.stringify(suite.stack.sources().map(({ token: _token, ...source }) => source)),
    relay: { url: relay.url, token: TOKEN },
  });
  relay.allowOrigin(app.url);
});

afterAll(async () => {
  expect(app?.cspReports ?? []).toEqual([]);
  await app?.close();
  await relay?.closeAll().catch(() => undefined);
  await nats?.close();
});

/** a CodeBegen generation started straight at the platform, as another client would */
async function generationElsewhere(prompt: string): Promise<{ generation_id: string }> {
  const { platform } = suite.stack;
  const response = await fetch(`${platform.url}/api/v2/generation/generate`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${platform.devToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });
  return (await response.json()) as { generation_id: string };
}

const relayStreams = (requests: string[]) => requests.filter((url) => url === `${relay.url}/v1/stream`).length;
/** what the connections page says of this tab's part in the browser's stream */
async function tabRole(tab: Page): Promise<string | null> {
  await tab.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
  return tab.getByTestId('relay-tab-role').textContent();
}

describe('tabs of one browser behind a relay', () => {
  it('8 tabs: one stream to the relay, every tab live, and a launch from tab 5 shows in all at once', async () => {
    const first = await suite.freshPage();
    const requests: string[] = [];
    first.context().on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    const tabs = await boardTabs(first, 7, app.url, errors);

    const fifth = tabs[4];
    const key = await launchSeenByAll(fifth, tabs, { name: 'Launched from tab five', requirements: 'One stream for the browser' });
    await rowsReach(
      tabs.filter((tab) => tab !== fifth),
      [key],
      /completed/,
      30_000,
    );
    await waitForStatus(fifth, 'completed');

    // one tab holds the stream; the others take its frames
    expect(relayStreams(requests)).toBe(1);
    const roles: (string | null)[] = [];
    for (const tab of tabs) roles.push(await tabRole(tab));
    expect(roles.filter((role) => role === 'holds the stream')).toHaveLength(1);
    expect(roles.filter((role) => role === 'shares another tab’s stream')).toHaveLength(7);
    const metrics = await fetch(`${relay.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/genwatch_relay_viewers 1\b/);
    expect(errors).toEqual([]);
  }, 120_000);

  it('the tab holding the stream closed mid-job: the others carry on, the job page with every event once', async () => {
    const leader = await suite.freshPage();
    const requests: string[] = [];
    const resumedFrom: (string | undefined)[] = [];
    leader.context().on('request', (request) => {
      requests.push(request.url());
      if (request.url() === `${relay.url}/v1/stream`) resumedFrom.push(request.headers()['last-event-id']);
    });
    const errors: string[] = [];
    const [, board, viewer] = await boardTabs(leader, 2, app.url, errors);

    const started = await generationElsewhere('Watched by three tabs, one of them closed');
    const key = `codebegen-demo/${started.generation_id}`;
    await viewer.goto(`${app.url}/jobs/${key}`);
    await expect.poll(() => headerStatus(viewer).textContent(), { timeout: 10_000 }).toBe('running');

    await leader.close();
    await waitForStatus(viewer, 'completed');
    const row = board.locator(`tbody tr[data-job="${key}"]`);
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('completed');
    // the next tab in line took the stream over: a second stream, for the whole browser
    expect(relayStreams(requests)).toBe(2);
    // from where the closed tab's stream left off: the relay's log sequence
    expect(resumedFrom[0]).toBeUndefined();
    expect(Number(resumedFrom[1])).toBeGreaterThan(0);

    // every event of the job once: the page's log is the relay's log, heartbeats aside
    const { body: history } = await relayApi(relay.url, TOKEN)(`/v1/jobs/${encodeURIComponent(key)}/events`);
    const logged = (history as { kind: string; seq: number }[]).filter((event) => event.kind !== 'heartbeat');
    await expect.poll(() => viewer.locator('.log__count').textContent(), { timeout: 5000 }).toBe(String(logged.length));
    expect([await tabRole(board), await tabRole(viewer)].sort()).toEqual(['holds the stream', 'shares another tab’s stream']);
    expect(errors).toEqual([]);
  }, 90_000);

  it('a browser without Web Locks: each tab holds a stream of its own, and every tab is live', async () => {
    const first = await suite.freshPage();
    await first.context().addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { value: undefined, configurable: true }));
    const requests: string[] = [];
    first.context().on('request', (request) => requests.push(request.url()));
    await first.goto(app.url);
    const errors: string[] = [];
    const [second] = await tabsBeside(first, 1, app.url, errors);

    const started = await generationElsewhere('Watched by two tabs that cannot share');
    for (const tab of [first, second]) {
      const row = tab.locator(`tbody tr[data-job="codebegen-demo/${started.generation_id}"]`);
      await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('completed');
    }
    expect(relayStreams(requests)).toBe(2);
    await second.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    await second.getByTestId('relay-state').waitFor();
    expect(await second.getByTestId('relay-tab-role').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
