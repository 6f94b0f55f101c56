import { describe, expect, it } from 'vitest';
import { browserSuite } from '../support/suite';

// Browsers give an HTTP/1.1 origin six connections across all tabs: genwatch must never hold
// more streams to one origin than its budget, and still bring every job to its end.

const suite = browserSuite({ wire: 'guide', codebegen: { jobDurationMs: 6000, heartbeatMs: 1000 } });

describe('stream budget per origin', () => {
  it('30 concurrent jobs on one origin: at most 4 streams open at once, every job reaches its end', async () => {
    const { platform } = suite.stack;
    for (let index = 0; index < 30; index++) platform.startGeneration({ prompt: `budget job ${index + 1}`, __fail: index % 10 === 9 });
    const page = await suite.freshPage();
    await page.goto(await suite.stack.appWithBudget(4));
    // the board is virtualized: count finished jobs from its status counts, not its rows
    const finished = async () => Number(await page.getByTestId('count-completed').textContent()) + Number(await page.getByTestId('count-failed').textContent());
    await expect.poll(finished, { timeout: 45_000, interval: 500 }).toBe(30);
    const stats = platform.stats();
    expect(stats.peakStreams).toBeLessThanOrEqual(4);
    expect(stats.peakStreams).toBeGreaterThan(0);
    const failed = await page.getByTestId('count-failed').textContent();
    expect(Number(failed)).toBe(3);
  });
});
