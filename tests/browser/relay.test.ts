import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAppServer } from '../../server/app-server.js';
import { startRelayWith } from '../../relay/main';
import { startNats } from '../support/nats';
import { relayApi } from '../support/relayStream';
import { DIST } from '../support/stack';
import { browserSuite, headerStatus, statusesUntil, inject, startFromForm, waitForStatus } from '../support/suite';

// Dashboards behind relays on a real NATS JetStream: every shared URL live for every viewer,
// one stream per browser, and the work shared by two relays that survive one being killed.

const suite = browserSuite({
  codebegen: { jobDurationMs: 5000 },
  takoss: { jobDurationMs: 5000 },
  imagegen: { stepMs: 120 },
});

const TOKEN = 'browser-relay-token-0123456789';
const FAST = { reconnect: { baseMs: 200, maxMs: 1000, maxReconnects: 3 }, pollIntervalMs: 500 };
let nats: Awaited<ReturnType<typeof startNats>>;
type Relay = Awaited<ReturnType<typeof startRelayWith>>;
const relays: Relay[] = [];
const apps: Awaited<ReturnType<typeof startAppServer>>[] = [];

async function startRelay(relayId: string) {
  const relay = await startRelayWith({
    sources: suite.stack.sources(),
    token: TOKEN,
    nats: nats.url,
    relayId,
    leaseSeconds: 2,
    feed: FAST,
    discoveryIntervalMs: 500,
  });
  relays.push(relay);
  return relay;
}

/** a dashboard on `relay`, with other relays of the same NATS to fall back on */
async function dashboardOn(relay: Relay, fallbacks: Relay[] = []) {
  const app = await startAppServer({
    root: DIST,
    // the dashboard sees the sources without their tokens: the relay holds those
    sources: async () => JSON.stringify(suite.stack.sources().map(({ token: _token, ...source }) => source)),
    relay: { url: relay.url, fallbackUrls: fallbacks.map((other) => other.url), token: TOKEN },
  });
  apps.push(app);
  for (const each of [relay, ...fallbacks]) each.allowOrigin(app.url);
  return app.url;
}

async function relayWithDashboard(relayId: string) {
  const relay = await startRelay(relayId);
  return { relay, appUrl: await dashboardOn(relay) };
}

let first: Awaited<ReturnType<typeof relayWithDashboard>>;

beforeAll(async () => {
  nats = await startNats();
  first = await relayWithDashboard('relay-one');
});

afterAll(async () => {
  for (const app of apps) expect(app.cspReports).toEqual([]);
  await Promise.all(apps.map((app) => app.close()));
  for (const relay of relays) await relay.closeAll().catch(() => undefined);
  await nats?.close();
});

async function launch(page: Page, appUrl: string, sourceName: string, fields: Record<string, string>): Promise<string> {
  await page.goto(appUrl);
  await startFromForm(page, sourceName, fields);
  return page.url();
}

describe('through a relay', () => {
  it('a Takoss job, an image task and an iteration started in one browser are followed live to their end in another', async () => {
    const launcher = await suite.freshPage();
    const viewer = await suite.freshPage();
    const sockets: string[] = [];
    viewer.on('request', (request) => sockets.push(request.url()));

    const takossUrl = await launch(launcher, first.appUrl, 'Takoss (demo) (Takoss)', {
      'Project name': 'Shared through the relay',
      Description: 'Seen by a second browser',
      Requirements: 'Stream it to everyone',
    });
    await viewer.goto(takossUrl);
    const takossStatuses = await statusesUntil(viewer, 'completed');
    expect(takossStatuses).toContain('running');
    expect(await viewer.getByRole('list', { name: 'Phases' }).getByRole('listitem').count()).toBe(6);

    const imageUrl = await launch(launcher, first.appUrl, 'Image generation (demo) (Image generation)', { Prompt: 'A lighthouse at dusk, through the relay' });
    await viewer.goto(imageUrl);
    await viewer.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 10_000 });
    const imageStatuses = await statusesUntil(viewer, 'completed');
    expect(imageStatuses).toContain('running');
    expect(await viewer.getByRole('list', { name: 'Steps per second' }).textContent()).toMatch(/Base model: \d+\/\d+.*Refiner: \d+\/\d+/);
    // a third browser after the end: the page rebuilt from the relay's log is the live one's
    const late = await suite.freshPage();
    await late.goto(imageUrl);
    await waitForStatus(late, 'completed');
    await late.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 10_000 });
    expect(await late.getByText('No progress sample yet').count()).toBe(0);
    expect(await late.getByTestId('step').textContent()).toBe(await viewer.getByTestId('step').textContent());
    expect(await late.getByTestId('step').textContent()).toMatch(/Step (\d+) of \1\b/);
    await late.close();

    await launch(launcher, first.appUrl, 'CodeBegen (demo) (CodeBegen)', { Prompt: 'User API to iterate on, through the relay' });
    await waitForStatus(launcher, 'completed');
    const parentUrl = launcher.url();
    await launcher.getByPlaceholder('Add user authentication').fill('Add sessions, watched by a second browser');
    await launcher.getByRole('button', { name: 'Iterate' }).click();
    await launcher.waitForURL((url) => url.href !== parentUrl && url.pathname.startsWith('/jobs/'));
    await viewer.goto(launcher.url());
    await statusesUntil(viewer, 'completed', 60_000);
    // the generation's row, where the true end may be read, carries no message: the stream's last one stays
    expect(await viewer.getByTestId('message').textContent()).toMatch(/Iteration complete/);
    const stages = await viewer.getByRole('list', { name: 'Stages' }).locator('.stage__name').allTextContents();
    expect(stages).toEqual(expect.arrayContaining(['iteration start', 'merging files', 'iteration complete']));

    // the second browser never spoke to a platform: one origin for its data, the relay's
    const platformOrigins = suite.stack.sources().map((source) => new URL(source.baseUrl).origin);
    expect(sockets.filter((url) => platformOrigins.some((origin) => url.startsWith(origin)))).toEqual([]);
    // one stream per page load (three loads), whatever the number of jobs
    expect(sockets.filter((url) => url.startsWith(first.relay.url) && url.endsWith('/v1/stream')).length).toBe(3);
    expect(sockets.join(' ')).not.toContain(TOKEN);
  }, 150_000);

  it('a reload of the launching tab loses nothing of a Takoss job', async () => {
    const page = await suite.freshPage();
    const jobUrl = await launch(page, first.appUrl, 'Takoss (demo) (Takoss)', {
      'Project name': 'Reloaded launcher',
      Description: 'The tab reloads mid-way',
      Requirements: 'Nothing lost',
    });
    await expect.poll(() => headerStatus(page).textContent()).toBe('running');
    await page.reload();
    expect(page.url()).toBe(jobUrl);
    await waitForStatus(page, 'completed');
    const phases = await page.getByRole('list', { name: 'Phases' }).getByRole('listitem').allTextContents();
    expect(phases).toHaveLength(6);
    expect(phases.every((phase) => phase.includes('completed'))).toBe(true);
    expect(await page.getByTestId('result').textContent()).toMatch(/"projectId": "proj-/);
  });

  it('cancels a Takoss job it started, through the relay that streams it', async () => {
    const page = await suite.freshPage();
    await launch(page, first.appUrl, 'Takoss (demo) (Takoss)', { 'Project name': 'Cancel me', Description: 'Through the relay', Requirements: 'Stop it' });
    await expect.poll(() => headerStatus(page).textContent()).toBe('running');
    await page.getByRole('button', { name: 'Cancel generation' }).click();
    await waitForStatus(page, 'cancelled', 10_000);
    // a viewer in another browser cannot cancel what it did not start, as in direct mode
    const viewer = await suite.freshPage();
    await viewer.goto(page.url());
    await waitForStatus(viewer, 'cancelled');
    expect(await viewer.getByRole('button', { name: 'Cancel generation' }).count()).toBe(0);
  });

  it('asks for a platform token the relay had refused, gives it to the relay, and shows the upstream connections of the relay', async () => {
    const { platform } = suite.stack;
    const jobId = platform.startGeneration({ prompt: 'Refused at the relay, renewed from the browser', __durationMs: 5000, __fail: false });
    await inject(platform.url, { kind: 'status', status: 401, job: jobId, times: 1 });
    const page = await suite.freshPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(`${request.url()} ${request.postData() ?? ''}`));
    await page.goto(`${first.appUrl}/jobs/codebegen-demo/${jobId}`);
    const prompt = page.getByRole('alert').filter({ hasText: "rejected the relay's token" });
    await prompt.waitFor({ timeout: 15_000 });
    // the relay keeps it for every viewer: nothing to keep in this tab
    expect(await prompt.getByRole('checkbox').count()).toBe(0);
    await page.getByPlaceholder('New token').fill(platform.devToken);
    await page.getByRole('button', { name: 'Send to the relay' }).click();
    await waitForStatus(page, 'completed', 20_000);
    expect(await prompt.count()).toBe(0);
    // sent once, in a request body to the relay, never in a URL
    expect(requests.filter((line) => line.includes(platform.devToken))).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1\/sources\/codebegen-demo\/token /),
    ]);
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(platform.devToken);

    // the connections page lists what the relay follows upstream, job by job
    const running = platform.startGeneration({ prompt: 'Followed upstream by the relay', __durationMs: 8000, __fail: false });
    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    const table = page.getByRole('table', { name: 'Connections' });
    await expect.poll(() => table.textContent(), { timeout: 15_000 }).toContain(running);
    await expect.poll(() => page.getByTestId(`state-${running}`).textContent(), { timeout: 10_000 }).toBe('live');
    expect(await table.getByRole('row').filter({ hasText: running }).textContent()).toContain('relay-one');
    expect(await page.getByRole('table', { name: 'Stream budget per origin' }).textContent()).toContain(new URL(platform.url).origin);
    expect(await page.getByTestId('relay-connections-error').count()).toBe(0);
  });

  it('two relays share the work; when one is killed, its jobs and its dashboards move to the other', async () => {
    const second = await startRelay('relay-two');
    const page = await suite.freshPage();
    await page.goto(await dashboardOn(first.relay, [second]));
    // jobs started through relay one, which follows them upstream
    const api = relayApi(first.relay.url, TOKEN);
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { status, body } = await api('/v1/jobs', { sourceId: 'codebegen-demo', values: { prompt: `work for relay one, number ${i}` } });
      expect(status).toBe(201);
      keys.push(`codebegen-demo/${body.jobId}`);
    }
    const rows = () => page.locator('tbody tr[data-job]');
    const ours = async (word?: string) =>
      (await rows().allTextContents()).filter((text) => text.includes('work for relay one') && (!word || text.includes(word))).length;
    await expect.poll(() => ours(), { timeout: 10_000 }).toBe(3);
    const followedByOne = new Set(first.relay.collector.upstream().map((feed) => feed.key));
    expect(keys.every((key) => followedByOne.has(key))).toBe(true);

    await first.relay.closeAll({ crash: true });
    relays.splice(relays.indexOf(first.relay), 1);
    await expect
      .poll(() => keys.every((key) => second.collector.upstream().some((feed) => feed.key === key) || second.jobs.get(key)?.status === 'completed'), {
        timeout: 10_000,
      })
      .toBe(true);
    // the dashboard moved to relay two by itself, resumed where it was, and sees every job end
    await expect.poll(() => ours('completed'), { timeout: 40_000 }).toBe(3);
    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    await expect.poll(() => page.getByTestId('relay-health').textContent()).toContain('relay-two');
    expect(Number(await page.getByTestId('relay-reconnects').textContent())).toBeGreaterThan(0);
    await page.goto(`${page.url().replace(/\/connections$/, '')}/jobs/${keys[0]}`);
    await waitForStatus(page, 'completed');
    await page
      .getByText(/relay-two took this job over/)
      .first()
      .waitFor();
  });
});
