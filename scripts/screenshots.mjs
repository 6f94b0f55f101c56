// Screenshots of a running genwatch for the README: node scripts/screenshots.mjs [URL] [--only a,b]
// (insights: INSIGHTS_MINUTES of demo history first, 8 by default)
// (start it first with `npm start`; the iteration's phases need `npm start -- --wire guide`).
// Uses Debian's Chromium.
import { chromium } from 'playwright-core';

const base = process.argv.slice(2).find((arg) => arg.startsWith('http')) ?? 'http://localhost:5173';
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new Set(process.argv[onlyAt + 1].split(',')) : undefined;
const wanted = (name) => !only || only.has(name);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
const shot = (name) => page.screenshot({ path: `docs/${name}.png`, fullPage: false });
/** the page's own navigation: the app's state (the inspector's counts) lives in the page */
const visit = (name) => page.getByRole('navigation').first().getByRole('link', { name, exact: true }).click();

async function openRunning(platform) {
  await page.goto(base);
  const row = page
    .locator('tbody tr', { has: page.getByText(platform, { exact: true }) })
    .filter({ has: page.getByText('running', { exact: true }) })
    .first();
  await row.waitFor({ timeout: 30_000 });
  await row.getByRole('link').click();
  await page.waitForURL(/\/jobs\//);
}

async function launch(source, fill) {
  await page.goto(base);
  await page.getByRole('button', { name: 'New generation' }).click();
  await page.getByLabel('Source', { exact: true }).selectOption({ label: source });
  await fill();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForURL(/\/jobs\//);
}

await page.goto(base);
await page.locator('tbody tr[data-job]').nth(8).waitFor({ timeout: 15_000 });
await page.waitForTimeout(3000);
if (wanted('board')) {
  await shot('board');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForTimeout(300);
  await shot('board-light');
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard' }).waitFor();
  await shot('keys');
  await page.keyboard.press('Escape');
  await page.emulateMedia({ colorScheme: 'dark' });
}

if (wanted('job-codebegen')) {
  await openRunning('CodeBegen');
  await page.waitForTimeout(4000);
  await shot('job-codebegen');
}

if (wanted('job-smartforge')) {
  await launch('Smart Forge (demo) (Smart Forge)', () => page.getByLabel('Prompt').fill('REST API for a bookstore with authors and reviews'));
  await page
    .getByRole('navigation', { name: 'Files' })
    .getByRole('button', { name: /index\.js/ })
    .waitFor({ timeout: 30_000 });
  await page.getByTestId('writing').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  await shot('job-smartforge');
}

if (wanted('job-imagegen')) {
  await openRunning('Image generation');
  await page.waitForTimeout(5000);
  await shot('job-imagegen');
}

if (wanted('job-takoss')) {
  await launch('Takoss (demo) (Takoss)', async () => {
    await page.getByLabel('Project name').fill('Blog Platform');
    await page.getByLabel('Description').fill('A blog with authors and comments');
    await page.getByLabel('Requirements').fill('Build a blog with authentication and comments');
  });
  await page.waitForTimeout(9000);
  await shot('job-takoss');
}

if (wanted('job-iteration')) {
  const done = page
    .locator('tbody tr', { has: page.getByText('CodeBegen', { exact: true }) })
    .filter({ has: page.getByText('completed', { exact: true }) })
    .first();
  await page.goto(base);
  await done.waitFor({ timeout: 60_000 });
  await done.getByRole('link').click();
  await page.getByPlaceholder('Add user authentication').fill('Remove the legacy endpoints and add audit logging');
  await page.getByRole('button', { name: 'Iterate' }).click();
  await page.waitForTimeout(12_000);
  await shot('job-iteration');
}

if (wanted('job-comfyui')) {
  await launch('ComfyUI (demo) (ComfyUI)', () => page.getByLabel('Prompt', { exact: true }).fill('A red fox in fresh snow, golden hour, 35mm photo'));
  await page.getByTestId('image').waitFor({ timeout: 90_000 });
  await page.waitForTimeout(1000);
  await shot('job-comfyui');
}

if (wanted('connections')) {
  await visit('Connections');
  await page.waitForTimeout(6000);
  await shot('connections');
}

if (wanted('listings')) {
  await visit('Connections');
  await page.waitForTimeout(6000);
  await page.getByRole('heading', { name: 'Listings' }).scrollIntoViewIfNeeded();
  await page.getByRole('table', { name: 'Listings' }).screenshot({ path: 'docs/listings.png' });
}

if (wanted('not-found')) {
  // an id no platform has a job by, as a mistyped or stale link opens it
  await page.goto(`${base}/jobs/codebegen-demo/0b7c4c5e-0000-4000-8000-00000000dead`);
  await page.getByTestId('not-found').waitFor({ timeout: 10_000 });
  await page.waitForTimeout(500);
  await shot('not-found');
}

if (wanted('inspector')) {
  // a while on the board, every source read in this page, then its inspector
  await page.goto(base);
  await page.waitForTimeout(30_000);
  await visit('Sources');
  await page
    .getByRole('row', { name: new RegExp(process.env.INSPECT ?? 'CodeBegen \\(demo\\)') })
    .getByRole('link', { name: 'Inspect' })
    .click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: 'docs/inspector.png', fullPage: true });
}
if (wanted('insights')) {
  // insights come from jobs this browser saw end: the board stays open a while first
  // (INSIGHTS_MINUTES, 8 by default), then the last hour, dark and light
  await page.goto(base);
  await page.waitForTimeout(Number(process.env.INSIGHTS_MINUTES ?? 8) * 60_000);
  await visit('Insights');
  await page.getByRole('button', { name: 'last hour' }).click();
  await page.getByTestId('insights-jobs').waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: 'docs/insights.png', fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForTimeout(800);
  await page.screenshot({ path: 'docs/insights-light.png', fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
}
await browser.close();
