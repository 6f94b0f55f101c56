import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { startStack } from './stack';

/**
 * Hooks for a browser test file: the demo platforms and the built app for the whole file,
 * a fresh browser context per page, and no uncaught page error allowed in any test.
 */
export function browserSuite(options: Parameters<typeof startStack>[0]) {
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack(options);
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(pageErrors.splice(0)).toEqual([]);
    // every page of every test runs under the dashboard's Content-Security-Policy
    expect(stack?.takeCspReports()).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  return {
    get stack() {
      if (!stack) throw new Error('the stack is not started yet');
      return stack;
    },
    /** A page in a new browser context: nothing shared with earlier pages, like a new browser. */
    async freshPage({ expectCspViolations = false } = {}): Promise<Page> {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      if (expectCspViolations) return page;
      await context.exposeBinding('__genwatchCspViolation', (_source, text: string) => pageErrors.push(`CSP violation: ${text}`));
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          (window as unknown as { __genwatchCspViolation(text: string): void }).__genwatchCspViolation(
            `${event.effectiveDirective} blocked ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`,
          );
        });
      });
      return page;
    },
  };
}

/** Starts a job from the board's launch form (the page shows the board): fills `fields` by label, resolves once on the job's page. */
export async function startFromForm(page: Page, sourceName: string, fields: Record<string, string>): Promise<void> {
  await page.getByRole('button', { name: 'New generation' }).click();
  await page.getByLabel('Source', { exact: true }).selectOption({ label: sourceName });
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForURL(/\/jobs\//);
}

export const jobUrl = (base: string, sourceId: string, jobId: string) => `${base}/jobs/${sourceId}/${jobId}`;
export const headerStatus = (page: Page) => page.locator('header [data-testid="status"]');

/** every status the header showed, polled until the last one is `status` */
export async function statusesUntil(page: Page, status: string, timeout = 30_000): Promise<string[]> {
  const seen: string[] = [];
  await expect
    .poll(
      async () => {
        const now = await headerStatus(page).textContent();
        if (now && seen.at(-1) !== now) seen.push(now);
        return now;
      },
      { timeout, interval: 100 },
    )
    .toBe(status);
  return seen;
}

/** Waits until the job page's header shows this status. */
export const waitForStatus = (page: Page, status: string, timeout = 30_000) => expect.poll(() => headerStatus(page).textContent(), { timeout }).toBe(status);

/** Messages of the platform's own stream events as the job's log lists them (snapshots left out). */
export async function loggedStreamMessages(page: Page): Promise<string[]> {
  await page.getByLabel('Filter events by kind').selectOption('update');
  const entries = await page.locator('li.entry--update').evaluateAll((elements) =>
    elements.map((element) => ({
      kind: element.querySelector('.entry__kind')?.textContent ?? '',
      text: element.querySelector('.entry__text')?.textContent ?? '',
    })),
  );
  return entries.filter((entry) => !['status', 'listing', 'started', 'lookup'].includes(entry.kind)).map((entry) => entry.text.split(' · ').at(-1) ?? '');
}

/** Sets a fault on a demo platform (`POST /__faults`; see server/lib/faults.js). */
export async function inject(baseUrl: string, fault: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/__faults`, { method: 'POST', body: JSON.stringify(fault) });
  expect(response.ok).toBe(true);
}

/** Everything the page keeps: local and session storage and every IndexedDB store, as one text. */
export async function storedByPage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const dump: unknown[] = [{ ...localStorage }, { ...sessionStorage }];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        dump.push(rows);
      }
      db.close();
    }
    return JSON.stringify(dump);
  });
}

/** Serious and critical axe violations on the page, each as 'rule: first targets'. */
export async function axe(page: Page): Promise<string[]> {
  const { createRequire } = await import('node:module');
  // evaluated over the DevTools protocol: a script tag would be (rightly) refused by the CSP
  const { readFileSync } = await import('node:fs');
  await page.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
  type Violation = { id: string; impact: string; nodes: { target: string[] }[] };
  const violations = await page.evaluate(
    async () => (await (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Violation[] }> } }).axe.run(document)).violations,
  );
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.nodes
          .map((node) => node.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
}
