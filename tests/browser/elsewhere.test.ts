import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppServer } from '../../server/app-server.js';
import { startRelayWith } from '../../relay/main';
import type { Source } from '../../src/protocols/source';
import { startNats } from '../support/nats';
import { relayApi } from '../support/relayStream';
import { DIST } from '../support/stack';
import { browserSuite, headerStatus, startFromForm, statusesUntil, jobUrl, waitForStatus } from '../support/suite';
import { postJson } from '../support/http';

// Jobs genwatch did not start: a product's backend, a script or a colleague started them straight
// at the demo platforms (as their own code serves them), and the operator has a URL, an id, a
// listing or a backend's registration. Direct mode and behind relays on a real NATS JetStream.

const suite = browserSuite({ codebegen: { jobDurationMs: 4000 }, imagegen: { stepMs: 150 } });

const TOKEN = 'browser-elsewhere-token-012345';
const FAST = { reconnect: { baseMs: 200, maxMs: 1000, maxReconnects: 3 }, pollIntervalMs: 500 };
const EVERY_LISTING_OFF = { running: false, pending: false, projects: false, queue: false, history: false };
const apps: Awaited<ReturnType<typeof startAppServer>>[] = [];
type Relay = Awaited<ReturnType<typeof startRelayWith>>;
const relays: Relay[] = [];
let nats: Awaited<ReturnType<typeof startNats>>;

/** sources no listing reads: a job reaches genwatch only by its URL, its id or a registration */
const unlisted = (): Source[] => suite.stack.sources({}, { listed: false }).map((source) => ({ ...source, listings: EVERY_LISTING_OFF }));

async function directDashboard(sources: Source[]): Promise<string> {
  const app = await startAppServer({ root: DIST, sources: async () => JSON.stringify(sources) });
  apps.push(app);
  return app.url;
}

async function relayDashboard(relay: Relay, fallbacks: Relay[] = []): Promise<string> {
  const app = await startAppServer({
    root: DIST,
    sources: async () => JSON.stringify(unlisted().map(({ token: _token, ...source }) => source)),
    relay: { url: relay.url, fallbackUrls: fallbacks.map((other) => other.url), token: TOKEN },
  });
  apps.push(app);
  for (const each of [relay, ...fallbacks]) each.allowOrigin(app.url);
  return app.url;
}

async function startRelay(relayId: string): Promise<Relay> {
  const relay = await startRelayWith({ sources: unlisted(), token: TOKEN, nats: nats.url, relayId, leaseSeconds: 2, feed: FAST, discoveryIntervalMs: 500 });
  relays.push(relay);
  return relay;
}

beforeAll(async () => {
  nats = await startNats();
});

afterAll(async () => {
  for (const app of apps) expect(app.cspReports).toEqual([]);
  await Promise.all(apps.map((app) => app.close()));
  for (const relay of relays) await relay.closeAll().catch(() => undefined);
  await nats?.close();
});

async function generationElsewhere(prompt: string, durationMs = 4000): Promise<string> {
  const { platform } = suite.stack;
  const { status, body } = await postJson(`${platform.url}/api/v2/generation/generate`, { prompt, __fail: false, __durationMs: durationMs }, platform.devToken);
  expect(status).toBe(201);
  return body.generation_id as string;
}

async function iterationElsewhere(instruction: string): Promise<string> {
  const { platform } = suite.stack;
  const parent = await generationElsewhere(`Parent of: ${instruction}`, 300);
  await new Promise((resolve) => setTimeout(resolve, 800));
  const { status, body } = await postJson(
    `${platform.url}/generations/iterate`,
    { parent_generation_id: parent, modification_prompt: instruction, __durationMs: 3000 },
    platform.devToken,
  );
  expect(status).toBe(201);
  return body.generation_id as string;
}

function imageTaskElsewhere(taskId: string, prompt: string) {
  const { imagegen } = suite.stack;
  return postJson(
    `${imagegen.url}/api/media/generate-image`,
    { prompt, task_id: taskId, use_pexels: false, use_generation: true, num_inference_steps: 20, __stepMs: 250 },
    imagegen.devToken,
  );
}

/** the three kinds of job from the issue, each started elsewhere and opened by its URL */
async function followsByUrl(appUrl: string) {
  const page = await suite.freshPage();
  const generation = await generationElsewhere('A generation a backend started');
  await page.goto(jobUrl(appUrl, 'codebegen-demo', generation));
  expect(await statusesUntil(page, 'completed')).toContain('running');
  expect(await page.getByRole('list', { name: 'Stages' }).locator('.stage__name').count()).toBeGreaterThan(3);

  const iteration = await iterationElsewhere('Add sessions, iterated by a colleague');
  await page.goto(jobUrl(appUrl, 'codebegen-demo', iteration));
  await statusesUntil(page, 'completed', 40_000);
  expect(await page.getByTestId('message').textContent()).toMatch(/Iteration complete/);

  // an image task whose URL was shared before it started
  const taskId = `task-shared-early-${Date.now()}`;
  await page.goto(jobUrl(appUrl, 'imagegen-demo', taskId));
  await headerStatus(page).waitFor();
  const done = imageTaskElsewhere(taskId, 'A lighthouse a colleague asked for');
  await page.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 15_000 });
  expect(await statusesUntil(page, 'completed', 30_000)).toContain('running');
  expect((await done).status).toBe(200);
  expect(await page.getByTestId('step').textContent()).toMatch(/Step 20 of 20/);
  expect(await page.getByTestId('not-found').count()).toBe(0);
  return { taskId };
}

const GARBAGE: [string, string][] = [
  ['codebegen-demo', '0b7c4c5e-0000-4000-8000-00000000dead'],
  ['takoss-demo', 'proj-nobody-made-this'],
  ['smartforge-demo', 'not-a-project-id'],
  ['imagegen-demo', 'task-nobody-started'],
  ['comfyui-demo', 'prompt-nobody-queued'],
];

/** each platform's garbage id reads "not found", with the platform's answer, within 10 s */
async function garbageSaysNotFound(appUrl: string) {
  const page = await suite.freshPage();
  for (const [sourceId, garbage] of GARBAGE) {
    const id = `${garbage}-${Date.now()}`;
    const opened = Date.now();
    await page.goto(jobUrl(appUrl, sourceId, id));
    await page.getByTestId('not-found').waitFor({ timeout: 10_000 });
    expect(Date.now() - opened, sourceId).toBeLessThan(10_000);
    expect(await headerStatus(page).textContent()).toBe('not found');
    expect((await page.getByTestId('not-found').textContent())!.length).toBeGreaterThan(20);
  }
}

describe('direct mode', () => {
  it('a generation, an iteration and an image task started elsewhere, opened by URL, each reach their end live', async () => {
    await followsByUrl(await directDashboard(unlisted()));
  }, 120_000);

  it('a garbage id on every platform says "not found" within 10 s', async () => {
    await garbageSaysNotFound(await directDashboard(unlisted()));
  }, 60_000);

  it('an id typed into the Open form is followed like a URL', async () => {
    const appUrl = await directDashboard(unlisted());
    const page = await suite.freshPage();
    await page.goto(appUrl);
    const jobId = await generationElsewhere('Opened by its id, typed in');
    await page.getByLabel('Source of the job to open').selectOption({ label: 'CodeBegen (demo)' });
    await page.getByLabel('Job id to open').fill(jobId);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.waitForURL(`**/jobs/codebegen-demo/${jobId}`);
    await waitForStatus(page, 'completed');
  }, 60_000);

  it("the platforms' own listings bring jobs started elsewhere onto the board, with no id typed", async () => {
    // platform listings only (CodeBegen's running list, Smart Forge's project list, ComfyUI's queue): no demo
    // listing. CodeBegen's lists show running jobs only, so they are read more often than the job lasts: at
    // their default 5 s a 5 s job can start and end between two reads and never be listed, as it would live.
    const sources = suite.stack.sources({}, { listed: false }).map((source) => ({ ...source, listings: { running: 1000, pending: 1000 } }));
    const appUrl = await directDashboard(sources);
    const page = await suite.freshPage();
    await page.goto(appUrl);
    const prompt = `Listed by the platform ${Date.now()}`;
    const jobId = await generationElsewhere(prompt, 5000);
    const row = page.locator(`tbody tr[data-job="codebegen-demo/${jobId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('completed');
    expect(await row.textContent()).toContain(prompt);

    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    const listings = page.getByRole('table', { name: 'Listings' });
    await expect.poll(() => listings.getByTestId('listing-codebegen-demo/running').textContent(), { timeout: 10_000 }).toMatch(/ok|\d+ job/);
  }, 60_000);
});

describe('behind relays on NATS JetStream', () => {
  it('a generation, an iteration and an image task started elsewhere, opened by URL, each reach their end live; a third browser after the end sees the same page', async () => {
    const relay = await startRelay('elsewhere-one');
    const appUrl = await relayDashboard(relay);
    const { taskId } = await followsByUrl(appUrl);

    // rebuilt from the relay's log after the end: the chart and the final frame's step
    const late = await suite.freshPage();
    await late.goto(jobUrl(appUrl, 'imagegen-demo', taskId));
    await waitForStatus(late, 'completed');
    await late.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 10_000 });
    expect(await late.getByText('No progress sample yet').count()).toBe(0);
    expect(await late.getByTestId('step').textContent()).toMatch(/Step 20 of 20/);
  }, 150_000);

  it('a garbage id on every platform says "not found" within 10 s', async () => {
    const relay = relays[0] ?? (await startRelay('elsewhere-one'));
    await garbageSaysNotFound(await relayDashboard(relay));
  }, 60_000);

  it('POST /v1/watch makes a job a backend started appear on the board of every connected dashboard', async () => {
    const one = relays[0] ?? (await startRelay('elsewhere-one'));
    const two = await startRelay('elsewhere-two');
    const boards = [await suite.freshPage(), await suite.freshPage()];
    await boards[0].goto(await relayDashboard(one));
    await boards[1].goto(await relayDashboard(two));
    for (const board of boards) await board.getByRole('table', { name: 'Jobs' }).waitFor();

    const prompt = `Registered by its backend ${Date.now()}`;
    const jobId = await generationElsewhere(prompt, 5000);
    const registered = await relayApi(two.url, TOKEN)('/v1/watch', { source: 'codebegen-demo', id: jobId });
    expect(registered.status).toBe(202);
    for (const board of boards) {
      const row = board.locator(`tbody tr[data-job="codebegen-demo/${jobId}"]`);
      await row.waitFor({ timeout: 15_000 });
      await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('completed');
      expect(await row.textContent()).toContain(prompt);
    }
  }, 90_000);

  it('a cancel no relay can carry out says why on the page, and the job goes on', async () => {
    const holder = await startRelay('cancel-holder');
    const other = await startRelay('cancel-other');
    const page = await suite.freshPage();
    await page.goto(await relayDashboard(holder, [other]));
    await startFromForm(page, 'Takoss (demo) (Takoss)', {
      'Project name': 'Cancelled too late',
      Description: 'Its relay dies first',
      Requirements: 'Say why the cancel failed',
    });
    await expect.poll(() => headerStatus(page).textContent(), { timeout: 10_000 }).toBe('running');
    // the relay that holds the launching request, the only stream that can be closed, dies
    await holder.closeAll({ crash: true });
    relays.splice(relays.indexOf(holder), 1);
    await page.getByRole('button', { name: 'Cancel generation' }).click();
    const refused = page.getByTestId('cancel-refused');
    await refused.waitFor({ timeout: 15_000 });
    expect(await refused.textContent()).toMatch(/^Cancel failed: .+\. The job goes on\.$/);
    expect(await headerStatus(page).textContent()).toBe('running');
  }, 60_000);
});
