import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, headerStatus, waitForStatus } from '../support/suite';
import { watchFeedWorker } from '../support/feedWorker';

// Every platform launched from the dashboard and watched to its end, in Chromium, against
// the real demo platforms.

const suite = browserSuite({
  wire: 'guide',
  codebegen: { jobDurationMs: 2500, heartbeatMs: 1000 },
  takoss: { jobDurationMs: 4000 },
  smartforge: { jobDurationMs: 4000, heartbeatMs: 500 },
  imagegen: { stepMs: 60, keepAliveMs: 500 },
  comfyui: { stepMs: 60, nodeMs: 40 },
});

async function openLaunchForm(page: Page, sourceName: string) {
  await page.goto(suite.stack.appUrl);
  await page.getByRole('button', { name: 'New generation' }).click();
  await page.getByLabel('Source', { exact: true }).selectOption({ label: sourceName });
}

async function start(page: Page) {
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForURL(/\/jobs\//);
}

const finalStatus = (page: Page, status: string, timeout = 20_000) => waitForStatus(page, status, timeout);

describe('Takoss', () => {
  it('streams a launched generation as the job, phase by phase, to its result', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Takoss (demo) (Takoss)');
    await page.getByLabel('Project name').fill('Blog Platform');
    await page.getByLabel('Description').fill('A blog with authors');
    await page.getByLabel('Requirements').fill('Build a blog with authentication and comments');
    await start(page);
    await expect.poll(() => page.getByRole('list', { name: 'Phases' }).getByRole('listitem').count()).toBe(6);
    await finalStatus(page, 'completed');
    expect(await page.getByRole('progressbar', { name: /^Progress of/ }).getAttribute('aria-valuenow')).toBe('100');
    const phases = await page.getByRole('list', { name: 'Phases' }).getByRole('listitem').allTextContents();
    expect(phases.every((phase) => phase.includes('completed'))).toBe(true);
    expect(await page.getByTestId('result').textContent()).toMatch(/"projectId": "proj-/);
  });

  it('shows a failing generation as failed with the platform’s reason', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Takoss (demo) (Takoss)');
    await page.getByLabel('Project name').fill('Doomed');
    await page.getByLabel('Description').fill('Will fail');
    await page.getByLabel('Requirements').fill('Anything [fail]');
    await start(page);
    await finalStatus(page, 'failed');
    expect(await page.getByTestId('job-error').textContent()).toContain('API rate limit exceeded');
    expect(await page.getByRole('list', { name: 'Phases' }).getByText('failed').count()).toBe(1);
  });

  it('cancels a running generation by aborting its request', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Takoss (demo) (Takoss)');
    await page.getByLabel('Project name').fill('Cancel me');
    await page.getByLabel('Description').fill('x');
    await page.getByLabel('Requirements').fill('y');
    await start(page);
    await page.getByRole('button', { name: 'Cancel generation' }).click();
    await finalStatus(page, 'cancelled', 5000);
    await page.waitForTimeout(4500);
    expect(await headerStatus(page).textContent()).toBe('cancelled');
  });

  it('checks the fields before starting and starts nothing when they are empty', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Takoss (demo) (Takoss)');
    const before = suite.stack.requestLog.filter((line) => line === 'POST /api/generate/stream').length;
    await page.getByLabel('Project name').fill('Only a name');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Describe the application.');
    expect(await alert.textContent()).toContain('List what it must do.');
    expect(await page.getByLabel('Description').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Project name').inputValue()).toBe('Only a name');
    expect(suite.stack.requestLog.filter((line) => line === 'POST /api/generate/stream').length).toBe(before);
  });
});

describe('Smart Forge', () => {
  it('assembles live code from chunks, follows the file being written, and steps to Complete', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Smart Forge (demo) (Smart Forge)');
    await page.getByLabel('Prompt').fill('REST API for a bookstore with authors and reviews');
    await start(page);
    await page.getByTestId('writing').first().waitFor({ timeout: 10_000 });
    await finalStatus(page, 'completed');
    const steps = page.getByRole('list', { name: 'Steps' }).getByRole('listitem');
    expect(await steps.allTextContents()).toEqual(['✓Planning: done', '✓Generating: done', '✓Validating: done', '✓Complete: done']);
    const files = await page.getByRole('navigation', { name: 'Files' }).getByRole('button').allTextContents();
    expect(files.map((file) => file.replace('✓', '').trim())).toEqual(['package.json', 'index.js', 'routes/bookstores.js', 'test/bookstores.test.js']);
    await page.getByRole('button', { name: /^index\.js/ }).click();
    const code = page.getByTestId('code');
    await expect.poll(() => code.textContent()).toContain("app.use('/api/bookstores', router);");
    expect(await code.locator('.token.keyword').count()).toBeGreaterThan(0); // highlighted
    expect(await code.getByRole('listitem').count()).toBe(15); // one numbered line each
  });

  it('shows a failing project as failed at the step it failed in', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Smart Forge (demo) (Smart Forge)');
    await page.getByLabel('Prompt').fill('Webhook relay [fail]');
    await start(page);
    await finalStatus(page, 'failed');
    expect(await page.getByTestId('job-error').textContent()).toContain('Model returned invalid code');
    expect(await page.getByRole('list', { name: 'Steps' }).getByRole('listitem').nth(1).textContent()).toContain('failed');
  });

  it('starts one project for a double click', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Smart Forge (demo) (Smart Forge)');
    await page.getByLabel('Prompt').fill('Double-clicked API');
    const before = suite.stack.requestLog.filter((line) => line === 'POST /api/projects').length;
    await page.getByRole('button', { name: 'Start', exact: true }).dblclick();
    await page.waitForURL(/\/jobs\//);
    await page.waitForTimeout(500);
    expect(suite.stack.requestLog.filter((line) => line === 'POST /api/projects').length).toBe(before + 1);
  });
});

describe('image generation', () => {
  it('charts the steps of both stages over a WebSocket and shows the image', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Image generation (demo) (Image generation)');
    await page.getByLabel('Prompt').fill('A lighthouse at dusk, oil painting');
    await start(page);
    await page.getByRole('img', { name: /Step against elapsed time/ }).waitFor({ timeout: 10_000 });
    await finalStatus(page, 'completed');
    const image = page.getByTestId('image');
    await image.waitFor();
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBe(256);
    expect(await page.getByRole('list', { name: 'Steps per second' }).textContent()).toMatch(/Base model: 25\/25.*Refiner: 10\/10/);
    await page.getByRole('img', { name: /Estimated remaining time against the real/ }).waitFor();
    expect(await page.getByTestId('transport').first().textContent()).toBe('done');
  });

  it('shows a failed task with the platform’s error', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'Image generation (demo) (Image generation)');
    await page.getByLabel('Prompt').fill('Too big [fail]');
    await start(page);
    await finalStatus(page, 'failed');
    expect(await page.getByTestId('job-error').textContent()).toContain('Out of memory');
  });

  it('says why a start was refused and keeps what was typed', async () => {
    const app = await suite.stack.appWithTokens({ imagegen: 'revoked-token' });
    const page = await suite.freshPage();
    await page.goto(app);
    await page.getByRole('button', { name: 'New generation' }).click();
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Image generation (demo) (Image generation)' });
    await page.getByLabel('Prompt').fill('Kept after a 401');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => page.locator('form[aria-labelledby="launch-title"] [role="alert"]').textContent()).toContain('401');
    expect(await page.getByLabel('Prompt').inputValue()).toBe('Kept after a 401');
    expect(page.url()).not.toContain('/jobs/');
  });
});

describe('CodeBegen iteration', () => {
  async function finishedGeneration(page: Page) {
    await openLaunchForm(page, 'CodeBegen (demo) (CodeBegen)');
    await page.getByLabel('Prompt').fill('User API to iterate on');
    await start(page);
    await finalStatus(page, 'completed');
    return page.url();
  }

  it('iterates on a finished generation: phases, files per phase, parent and child linked, token kept out of sight', async () => {
    const page = await suite.freshPage();
    // the streams are opened by the browser's feed worker
    const worker = await watchFeedWorker(page);
    const parentUrl = await finishedGeneration(page);
    await page.getByPlaceholder('Add user authentication').fill('Add sessions and an audit trail');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl && url.pathname.startsWith('/jobs/'));
    await expect.poll(() => page.getByTestId('step').textContent(), { timeout: 10_000 }).toMatch(/Phase \d of 6/);
    await finalStatus(page, 'completed');
    expect(await page.getByTestId('total-files').textContent()).toBe('21');
    expect(await page.getByRole('table', { name: 'Files per phase' }).getByRole('row').count()).toBe(8); // head, six phases, total
    expect(await page.getByTestId('message').textContent()).toBe('Iteration completed successfully with 21 files');
    await page.getByTestId('parent-link').click();
    await page.waitForURL(parentUrl);
    await page.getByRole('list', { name: 'Iterations' }).getByRole('link', { name: 'Add sessions and an audit trail' }).waitFor();

    const streamUrl = worker.requests.find((url) => url.includes('/generations/') && url.includes('token='));
    await worker.stop();
    const token = new URL(streamUrl!).searchParams.get('token')!;
    expect(token.length).toBeGreaterThan(20);
    expect(page.url()).not.toContain(token);
    expect(await page.content()).not.toContain(token);
  });

  it('shows a data-loss warning as a warning, and a failed iteration with its partial files', async () => {
    const page = await suite.freshPage();
    await finishedGeneration(page);
    const parentUrl = page.url();
    await page.getByPlaceholder('Add user authentication').fill('Remove the legacy endpoints');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl);
    await finalStatus(page, 'completed');
    expect(await page.getByTestId('warning').textContent()).toMatch(/Warning: Expected ~\d+ files, got 21/);

    await page.goto(parentUrl);
    await page.getByPlaceholder('Add user authentication').fill('Break it [fail]');
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl);
    await finalStatus(page, 'failed');
    expect(await page.getByTestId('job-error').textContent()).toContain("'FileManager' object has no attribute");
    expect(await page.getByRole('heading', { name: /Partial files saved \(12\)/ }).count()).toBe(1);
    expect(await page.getByRole('list', { name: 'Files' }).getByRole('listitem').count()).toBe(12);
  });

  it('says plainly that a shared iteration cannot be streamed without its token', async () => {
    const page = await suite.freshPage();
    await finishedGeneration(page);
    await page.getByPlaceholder('Add user authentication').fill('Shared iteration');
    const parentUrl = page.url();
    await page.getByRole('button', { name: 'Iterate' }).click();
    await page.waitForURL((url) => url.href !== parentUrl);
    const childUrl = page.url();
    const other = await suite.freshPage();
    await other.goto(childUrl);
    await expect.poll(() => other.getByTestId('link-note').textContent(), { timeout: 8000 }).toContain('SSE token');
    expect(await other.getByTestId('link-error').count()).toBe(0);
    await finalStatus(other, 'completed'); // the listing still tells how it ends
  });
});

describe('ComfyUI', () => {
  it('queues a prompt from the form and follows it node by node over its socket to the saved image', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'ComfyUI (demo) (ComfyUI)');
    // the form is the dialect's launch schema: its defaults are there before anything is typed
    expect(await page.getByLabel('Steps').inputValue()).toBe('20');
    expect(await page.getByLabel('Checkpoint').inputValue()).toBe('v1-5-pruned-emaonly.safetensors');
    await page.getByLabel('Prompt', { exact: true }).fill('A red fox in fresh snow, golden hour');
    await page.getByLabel('Steps').fill('16');
    await start(page);
    // the sampler's steps, live, on the socket the dashboard opened before queuing
    await expect.poll(() => page.getByTestId('step').textContent(), { timeout: 10_000 }).toMatch(/Step \d+ of 16 · sampling/);
    expect(await page.getByTestId('transport').first().textContent()).toBe('live · socket');
    await finalStatus(page, 'completed');
    const nodes = page.getByRole('list', { name: 'Nodes' }).getByRole('listitem');
    expect(await nodes.count()).toBe(7);
    expect(await nodes.allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^sampling.*completed/i)]));
    const image = page.getByTestId('image');
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBe(64);
    const log = suite.stack.requestLog;
    const socketAt = log.findIndex((line) => line === 'WS /ws');
    expect(socketAt).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('POST /prompt', socketAt)).toBeGreaterThan(socketAt);
  });

  it('shows a prompt ComfyUI failed with the node and the exception it reported', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'ComfyUI (demo) (ComfyUI)');
    await page.getByLabel('Prompt', { exact: true }).fill('Too big [fail]');
    await page.getByLabel('Steps').fill('8');
    await start(page);
    await finalStatus(page, 'failed');
    expect(await page.getByTestId('job-error').textContent()).toContain('KSampler (node 3) failed: torch.OutOfMemoryError');
    expect(await page.getByRole('list', { name: 'Nodes' }).getByText('failed').count()).toBe(1);
  });

  it('checks the fields against the schema before queuing anything', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'ComfyUI (demo) (ComfyUI)');
    const before = suite.stack.requestLog.filter((line) => line === 'POST /prompt').length;
    await page.getByLabel('Prompt', { exact: true }).fill('ok');
    await page.getByLabel('Steps').fill('500');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const errors = page.locator('form[aria-labelledby="launch-title"] [role="alert"]');
    await expect.poll(() => errors.textContent()).toContain('Describe the image in at least 3 characters.');
    expect(await errors.textContent()).toContain('At most 150 steps.');
    expect(await page.getByLabel('Steps').getAttribute('aria-invalid')).toBe('true');
    expect(suite.stack.requestLog.filter((line) => line === 'POST /prompt').length).toBe(before);
  });

  it('opens a shared link to a ComfyUI prompt in a fresh browser: no socket for it, its outcome from the history', async () => {
    const page = await suite.freshPage();
    await openLaunchForm(page, 'ComfyUI (demo) (ComfyUI)');
    await page.getByLabel('Prompt', { exact: true }).fill('Koi pond from above, ink wash');
    await page.getByLabel('Steps').fill('6');
    await start(page);
    await finalStatus(page, 'completed');
    const sockets = () => suite.stack.requestLog.filter((line) => line === 'WS /ws').length;
    const socketsBefore = sockets();
    const promptId = page.url().split('/').pop()!;
    const shared = await suite.freshPage();
    await shared.goto(page.url());
    await waitForStatus(shared, 'completed', 15_000);
    expect(await shared.getByRole('heading', { level: 1 }).textContent()).toBe('Koi pond from above, ink wash');
    await shared.getByTestId('image').waitFor();
    expect(suite.stack.requestLog).toContain(`GET /history/${promptId}`);
    expect(sockets()).toBe(socketsBefore);
  });
});
