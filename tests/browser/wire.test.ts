import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, jobUrl, storedByPage, waitForStatus } from '../support/suite';
import { watchFeedWorker } from '../support/feedWorker';
import type { Wire } from '../support/stack';

// A job of every platform watched to its end in Chromium, against the demo platforms speaking
// what the platforms' own code sends (upstream) and what their guides describe (guide). Then
// the protocol inspector of each source must show that nothing it sent was invalid or unknown.

/** the stage names of the job page's timeline, as shown */
const phasesOf = (page: Page) => page.getByRole('list', { name: 'Stages' }).locator('.stage__name').allTextContents();

/** The inspector of a source, reached inside the app (its counts live in the page). */
async function inspect(page: Page, sourceName: string) {
  await page.getByRole('navigation').getByRole('link', { name: 'Sources', exact: true }).click();
  const row = page.getByRole('row', { name: new RegExp(sourceName.replace(/[()]/g, '\\$&')) });
  await row.getByRole('link', { name: 'Inspect' }).click();
  await page.getByRole('heading', { name: `Protocol inspector: ${sourceName}` }).waitFor();
  await expect.poll(async () => Number(await page.getByTestId('inspect-messages').textContent())).toBeGreaterThan(0);
  return {
    invalid: Number(await page.getByTestId('inspect-invalid').textContent()),
    unrecognized: Number(await page.getByTestId('inspect-unrecognized').textContent()),
    types: await page.getByRole('table', { name: 'Message types seen' }).locator('tbody tr td:first-child code').allTextContents(),
  };
}

describe.each<Wire>(['upstream', 'guide'])('the %s wire', (wire) => {
  /** what only the platforms' own code does: registered for that variant alone */
  const upstreamOnly: typeof it = ((name: string, test: () => Promise<void>, timeout?: number) => {
    if (wire === 'upstream') it(name, test, timeout);
  }) as typeof it;
  const suite = browserSuite({
    wire,
    codebegen: { jobDurationMs: 3000, heartbeatMs: 1000 },
    takoss: { jobDurationMs: 3000 },
    smartforge: { jobDurationMs: 3000, heartbeatMs: 500 },
    imagegen: { stepMs: wire === 'upstream' ? 70 : 60, keepAliveMs: 500 },
  });

  async function launch(page: Page, sourceName: string, fields: Record<string, string>) {
    await page.goto(suite.stack.appUrl);
    await page.getByRole('button', { name: 'New generation' }).click();
    await page.getByLabel('Source', { exact: true }).selectOption({ label: sourceName });
    for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/\/jobs\//);
  }

  it('CodeBegen: a generation and an iteration of it, each to its end', async () => {
    const page = await suite.freshPage();
    await launch(page, 'CodeBegen (demo) (CodeBegen)', { Prompt: 'Create a user management API with FastAPI' });
    await waitForStatus(page, 'completed');
    expect(await page.getByRole('progressbar', { name: /^Progress of/ }).getAttribute('aria-valuenow')).toBe('100');
    const phases = await phasesOf(page);
    expect(phases.length).toBeGreaterThanOrEqual(wire === 'upstream' ? 10 : 6);
    expect(phases.at(-1)).toBe(wire === 'upstream' ? 'complete' : 'completed');
    const parentUrl = page.url();
    await page.getByPlaceholder('Add user authentication').fill('Add sessions and an audit trail');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl && url.pathname.startsWith('/jobs/'));
    // upstream: the orchestrator says "completed" early, the stream closes, a new token follows
    await waitForStatus(page, 'completed', 40_000);
    // upstream, the generation's row (where the true end is read) carries no message: the stream's last one stays
    expect(await page.getByTestId('message').textContent()).toMatch(wire === 'guide' ? /Iteration completed successfully/ : /Iteration complete/);
    if (wire === 'guide') expect(await page.getByTestId('total-files').textContent()).toBe('21');
    // upstream the stream closes at the interim end; the true end is read from the generation
    else expect(await phasesOf(page)).toEqual(expect.arrayContaining(['iteration start', 'merging files', 'iteration complete']));
    const inspected = await inspect(page, 'CodeBegen (demo)');
    expect(inspected).toMatchObject({ invalid: 0, unrecognized: 0 });
    expect(inspected.types).toEqual(
      expect.arrayContaining(
        wire === 'upstream' ? ['processing', 'heartbeat', 'connected', 'completed', 'stream_closing'] : ['processing', 'connected', 'completed'],
      ),
    );
  });

  it('Takoss: the launching request streams the phases to `complete`, then the result', async () => {
    const page = await suite.freshPage();
    await launch(page, 'Takoss (demo) (Takoss)', {
      'Project name': 'Blog Platform',
      Description: 'A blog with authors',
      Requirements: 'Build a blog with authentication and comments',
    });
    await waitForStatus(page, 'completed');
    const phases = await phasesOf(page);
    expect(phases).toEqual(['initialization', 'analysis', 'complexity', 'database', 'frontend', 'deployment', 'complete']);
    await expect.poll(() => page.getByTestId('result').textContent()).toMatch(/"success": true/);
    if (wire === 'upstream') expect(await page.getByTestId('result').textContent()).toMatch(/"visualization": "\[HTML, \d+ KB\]"/);
    const inspected = await inspect(page, 'Takoss (demo)');
    expect(inspected).toMatchObject({ invalid: 0, unrecognized: 0 });
    expect(inspected.types).toEqual(expect.arrayContaining(['phase_start', 'phase_complete', 'complete', 'result']));
  });

  it('Smart Forge: live code, every file whole, the steps to Complete', async () => {
    const page = await suite.freshPage();
    await launch(page, 'Smart Forge (demo) (Smart Forge)', { Prompt: 'REST API for a bookstore with authors and reviews' });
    await waitForStatus(page, 'completed');
    const steps = page.getByRole('list', { name: 'Steps' }).getByRole('listitem');
    expect(await steps.allTextContents()).toEqual(['✓Planning: done', '✓Generating: done', '✓Validating: done', '✓Complete: done']);
    const files = (await page.getByRole('navigation', { name: 'Files' }).getByRole('button').allTextContents()).map((file) => file.replace('✓', '').trim());
    expect(files).toEqual(
      wire === 'upstream'
        ? ['(model output)', 'package.json', 'src/index.js', 'src/routes/bookstores.js']
        : ['package.json', 'index.js', 'routes/bookstores.js', 'test/bookstores.test.js'],
    );
    await page.getByRole('button', { name: wire === 'upstream' ? /^src\/index\.js/ : /^index\.js/ }).click();
    await expect.poll(() => page.getByTestId('code').textContent()).toContain("app.use('/api/bookstores', router);");
    const inspected = await inspect(page, 'Smart Forge (demo)');
    expect(inspected).toMatchObject({ invalid: 0, unrecognized: 0 });
    expect(inspected.types).toEqual(
      expect.arrayContaining(
        wire === 'upstream' ? ['chunk', 'file:complete', 'deps:progress', 'complete'] : ['code:chunk', 'file:complete', 'step:start', 'complete'],
      ),
    );
  });

  it('image generation: steps of both stages charted, to the end', async () => {
    const page = await suite.freshPage();
    await launch(page, 'Image generation (demo) (Image generation)', { Prompt: 'A lighthouse at dusk, oil painting' });
    await page.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 10_000 });
    await waitForStatus(page, 'completed');
    expect(await page.getByRole('progressbar', { name: /^Progress of/ }).getAttribute('aria-valuenow')).toBe('100');
    const rates = await page.getByRole('list', { name: 'Steps per second' }).textContent();
    expect(rates).toMatch(/Base model: \d+\/\d+.*Refiner: \d+\/\d+/);
    if (wire === 'guide') await expect.poll(() => page.getByTestId('image').evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBe(256);
    else expect(await page.getByTestId('saved-at').textContent()).toMatch(/sdxl_task-.*\.png, a path on its own disk/);
    const inspected = await inspect(page, 'Image generation (demo)');
    expect(inspected).toMatchObject({ invalid: 0, unrecognized: 0 });
    expect(inspected.types).toEqual(expect.arrayContaining(['progress', 'launch answer']));
  });

  describe('a job started elsewhere, opened by its URL in a fresh browser', () => {
    it('CodeBegen', async () => {
      const jobId = suite.stack.platform.startGeneration({ prompt: 'Started by a colleague, followed by URL', __durationMs: 3000, __fail: false });
      const page = await suite.freshPage();
      await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', jobId));
      await waitForStatus(page, 'completed');
      expect((await phasesOf(page)).length).toBeGreaterThanOrEqual(5);
      expect(await page.getByTestId('link-error').count()).toBe(0);
    });

    it('Smart Forge: followed on its own stream to Complete, with its files', async () => {
      const projectId = suite.stack.smartforge.startProject('Inventory API with stock alerts', { durationMs: 4000 });
      const page = await suite.freshPage();
      await page.goto(jobUrl(suite.stack.appUrl, 'smartforge-demo', projectId));
      await waitForStatus(page, 'completed');
      expect(await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').last().textContent()).toBe('✓Complete: done');
      expect(await page.getByRole('navigation', { name: 'Files' }).getByRole('button').count()).toBeGreaterThanOrEqual(3);
      expect(await page.getByText(/invalid messages? skipped/).count()).toBe(0);
    });

    it('image generation: progress asked for over the socket, the end known from the final frame', async () => {
      const { imagegen } = suite.stack;
      const taskId = `task-by-url-${wire}-${Date.now()}`;
      const launchPath = wire === 'upstream' ? '/api/media/generate-image' : '/api/media/generate';
      const done = fetch(`${imagegen.url}${launchPath}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${imagegen.devToken}` },
        body: JSON.stringify({
          prompt: 'Mountain lake at sunrise, photo',
          task_id: taskId,
          use_pexels: false,
          use_generation: true,
          use_refinement: true,
          num_inference_steps: 30,
          __stepMs: 80,
        }),
      });
      const page = await suite.freshPage();
      await page.goto(jobUrl(suite.stack.appUrl, 'imagegen-demo', taskId));
      await expect
        .poll(async () => Number(await page.getByRole('progressbar', { name: /^Progress of/ }).getAttribute('aria-valuenow')), { timeout: 10_000 })
        .toBeGreaterThan(0);
      await waitForStatus(page, 'completed');
      expect((await done).status).toBe(200);
      expect(await page.getByRole('img', { name: /Step against elapsed time/ }).count()).toBe(1);
      expect(await page.getByText(/invalid messages? skipped/).count()).toBe(0);
    });

    upstreamOnly('a CodeBegen iteration: any viewer with the source’s token gets stream tokens of its own', async () => {
      const { platform } = suite.stack;
      const parent = platform.startGeneration({ prompt: 'Parent of a shared iteration', __durationMs: 300, __fail: false });
      await new Promise((resolve) => setTimeout(resolve, 700));
      const response = await fetch(`${platform.url}/generations/iterate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${platform.devToken}` },
        body: JSON.stringify({ parent_generation_id: parent, modification_prompt: 'Shared with a colleague', __durationMs: 6000 }),
      });
      const { generation_id: childId } = (await response.json()) as { generation_id: string };
      const page = await suite.freshPage();
      await page.goto(jobUrl(suite.stack.appUrl, 'codebegen-demo', childId));
      await expect.poll(() => page.getByTestId('transport').first().textContent(), { timeout: 8000 }).toBe('live · stream');
      await waitForStatus(page, 'completed', 30_000);
      expect(await page.getByTestId('link-error').count()).toBe(0);
      expect(suite.stack.requestLog.filter((line) => line === `POST /generations/generate/${childId}/stream-token`).length).toBeGreaterThanOrEqual(1);
    });
  });

  upstreamOnly('a socket refused at its handshake (HTTP 403): asks once for a token, does not loop', async () => {
    const app = await suite.stack.appWithTokens({ imagegen: 'revoked-token' });
    const taskId = `task-refused-${Date.now()}`;
    const page = await suite.freshPage();
    await page.goto(jobUrl(app, 'imagegen-demo', taskId));
    const error = page.getByTestId('link-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.textContent()).toMatch(/refused the WebSocket handshake/);
    await page.waitForTimeout(2500);
    const attempts = suite.stack.requestLog.filter((line) => line.startsWith('WS ') && line.endsWith(taskId));
    // each path twice, then it stops
    expect(attempts.length).toBeLessThanOrEqual(4);
    const prompt = page.getByRole('textbox', { name: 'New token for Image generation (demo)' });
    expect(await prompt.count()).toBe(1);
    // with a token the platform takes, the socket opens
    await prompt.fill(suite.stack.imagegen.devToken);
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('transport').first().textContent(), { timeout: 10_000 }).toBe('live · socket');
  });

  upstreamOnly('more jobs than stream slots while /status answers 500: they wait for a stream, none is lost', async () => {
    const { platform } = suite.stack;
    const ids = Array.from({ length: 6 }, (_, index) =>
      platform.startGeneration({ prompt: `budget under a broken status ${index + 1}`, __durationMs: 4000, __fail: false }),
    );
    const page = await suite.freshPage();
    await page.goto(await suite.stack.appWithBudget(2));
    await page.getByRole('searchbox').fill('budget under a broken status');
    await expect.poll(async () => await page.getByRole('row').filter({ hasText: 'completed' }).count(), { timeout: 45_000, interval: 500 }).toBe(6);
    expect(ids).toHaveLength(6);
    expect(platform.stats().peakStreams).toBeLessThanOrEqual(2);
    expect(await page.getByText('Polling stopped').count()).toBe(0);
  });

  upstreamOnly('tokens in the query that the protocols force (stream tokens, the socket’s) go nowhere else', async () => {
    const { platform, imagegen, requestLog } = suite.stack;
    const page = await suite.freshPage();
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(message.text()));
    // the feed worker asks for the stream tokens, and logs what it logs
    const worker = await watchFeedWorker(page, (url) => url.endsWith('/stream-token'));
    const kept: string[] = [];
    const keep = async () => kept.push(page.url(), await page.content(), await storedByPage(page));
    await launch(page, 'CodeBegen (demo) (CodeBegen)', { Prompt: 'A generation whose iteration streams with tokens' });
    await waitForStatus(page, 'completed');
    const parentUrl = page.url();
    await page.getByPlaceholder('Add user authentication').fill('Add an audit trail');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl && url.pathname.startsWith('/jobs/'));
    await waitForStatus(page, 'completed', 40_000);
    await keep();
    await launch(page, 'Image generation (demo) (Image generation)', { Prompt: 'A fox reading a newspaper, watercolour' });
    await waitForStatus(page, 'completed');
    await keep();
    const exported = page.waitForEvent('download');
    await page
      .getByRole('button', { name: /^Export/ })
      .first()
      .click();
    const file = await (await exported).createReadStream();
    let exportText = '';
    for await (const chunk of file) exportText += String(chunk);
    for (const path of ['/connections', '/sources', '/']) {
      await page
        .getByRole('navigation')
        .getByRole('link', { name: path === '/' ? 'Board' : path === '/sources' ? 'Sources' : 'Connections', exact: true })
        .click();
      await page.waitForTimeout(400);
      await keep();
    }
    await worker.stop();
    consoleLines.push(...worker.console);
    const minted = worker.bodies.flatMap(({ body }) => (JSON.parse(body) as { sse_token?: string }).sse_token ?? []);
    expect(minted.length).toBeGreaterThanOrEqual(1);
    const tokens = {
      codebegen: platform.devToken,
      imagegen: imagegen.devToken,
      ...Object.fromEntries(minted.map((token, index) => [`stream token ${index + 1}`, token])),
    };
    for (const [name, token] of Object.entries(tokens)) {
      expect(
        requestLog.filter((line) => line.includes(token)),
        `${name} in a request log line`,
      ).toEqual([]);
      // Chromium itself logs the URL of a connection that failed, query and all: the page never does
      const leaks = consoleLines.filter((line) => line.includes(token) && !/(\/stream|image-generation\/[^?\s]+)\?token=/.test(line));
      expect(leaks, `${name} in the console`).toEqual([]);
      expect(kept.filter((text) => text.includes(token)).length, `${name} in a page, its URL or its storage`).toBe(0);
      expect(exportText.includes(token), `${name} in an export`).toBe(false);
    }
  });
});
