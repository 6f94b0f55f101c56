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
    async freshPage(): Promise<Page> {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      return page;
    },
  };
}

export const jobUrl = (base: string, sourceId: string, jobId: string) => `${base}/jobs/${sourceId}/${jobId}`;
export const headerStatus = (page: Page) => page.locator('header [data-testid="status"]');
