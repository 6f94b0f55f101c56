// The insights scenario of `npm run bench`: 100,000 finished jobs' facts in the browser's
// IndexedDB, the real /insights page of the built app, and the time from choosing a window to
// its figures painted. The naive baseline computes the same figures the obvious way, a filter
// over every job for each bar, source and percentile, on the page's own thread.

const PLATFORMS = ['codebegen', 'takoss', 'smartforge', 'imagegen', 'comfyui'];
const WINDOWS = ['24h', '1h', '7d'];

/** Writes `count` facts spread over the last seven days into the app's facts database (in the page). */
async function seedFacts([count, platforms]) {
  const now = Date.now();
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const failures = ['Model timed out after 30 s', 'CUDA out of memory', 'Generation failed: model returned invalid code', 'Rate limited by upstream'];
  const stagesOf = {
    codebegen: ['plan', 'generate', 'review', 'package'],
    takoss: ['design', 'build', 'test'],
    smartforge: ['plan', 'write', 'validate'],
    imagegen: ['base_model', 'refiner_model'],
    comfyui: ['load', 'sample', 'decode', 'save'],
  };
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('genwatch-insights', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('facts', { keyPath: 'key' }).createIndex('byFinishedAt', 'finishedAt');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  for (let written = 0; written < count;) {
    const tx = db.transaction('facts', 'readwrite');
    for (let i = 0; i < 5000 && written < count; i++, written++) {
      const platform = platforms[written % platforms.length];
      const roll = random();
      const status = roll < 0.85 ? 'completed' : roll < 0.95 ? 'failed' : 'cancelled';
      const stages = stagesOf[platform].map((stage) => [stage, Math.round(2000 + random() * 30_000)]);
      const duration = stages.reduce((sum, [, ms]) => sum + ms, 0);
      const finishedAt = now - Math.floor(random() * 7 * 86_400_000);
      const startedAt = finishedAt - duration;
      tx.objectStore('facts').put({
        key: `${platform}-src/${written}`,
        sourceId: `${platform}-src`,
        platform,
        status,
        createdAt: startedAt - Math.round(random() * 20_000),
        startedAt,
        finishedAt,
        failure: status === 'failed' ? failures[Math.floor(random() * failures.length)] : undefined,
        stages,
        reconnects: random() < 0.05 ? 1 : 0,
        fallbacks: random() < 0.02 ? 1 : 0,
        invalid: random() < 0.01 ? 1 : 0,
        unrecognized: 0,
        eta:
          status === 'completed'
            ? [0.2, 0.5, 0.8].map((share) => [Math.round(duration * (1 - share) * (0.7 + random() * 0.6)), Math.round(duration * (1 - share))])
            : [],
      });
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }
  db.close();
}

/** The figures of /insights computed the obvious way, in the page: every bar, source and percentile scans every job. */
async function naiveScan([windowMs, runs]) {
  const facts = await new Promise((resolve, reject) => {
    const request = indexedDB.open('genwatch-insights', 1);
    request.onsuccess = () => {
      const all = request.result.transaction('facts').objectStore('facts').getAll();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error);
    };
    request.onerror = () => reject(request.error);
  });
  const pct = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : undefined;
  };
  const figures = (from, to) => {
    const inWindow = facts.filter((fact) => fact.finishedAt >= from && fact.finishedAt < to);
    const bucketMs = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440].map((m) => m * 60_000).find((size) => (to - from) / size <= 60);
    const buckets = [];
    for (let start = from; start < to; start += bucketMs) {
      const jobs = facts.filter((fact) => fact.finishedAt >= start && fact.finishedAt < start + bucketMs);
      const durations = jobs.map((fact) => fact.finishedAt - fact.startedAt);
      buckets.push({
        completed: jobs.filter((fact) => fact.status === 'completed').length,
        failed: jobs.filter((fact) => fact.status === 'failed').length,
        cancelled: jobs.filter((fact) => fact.status === 'cancelled').length,
        p50: pct(durations, 50),
        p95: pct(durations, 95),
        p99: pct(durations, 99),
        reconnects: jobs.reduce((sum, fact) => sum + fact.reconnects, 0),
      });
    }
    const sources = [...new Set(inWindow.map((fact) => fact.sourceId))].map((source) => {
      const jobs = inWindow.filter((fact) => fact.sourceId === source);
      const durations = jobs.map((fact) => fact.finishedAt - fact.startedAt);
      return {
        source,
        jobs: jobs.length,
        p50: pct(durations, 50),
        p95: pct(durations, 95),
        p99: pct(durations, 99),
        wait: pct(
          jobs.map((fact) => fact.startedAt - fact.createdAt),
          50,
        ),
      };
    });
    const stageNames = [...new Set(inWindow.flatMap((fact) => fact.stages.map(([stage]) => `${fact.platform} ${stage}`)))];
    const stages = stageNames.map((name) => {
      const values = inWindow.flatMap((fact) => fact.stages.filter(([stage]) => `${fact.platform} ${stage}` === name).map(([, ms]) => ms));
      return { name, p50: pct(values, 50), p95: pct(values, 95) };
    });
    const failures = [...new Set(inWindow.filter((fact) => fact.failure).map((fact) => fact.failure))].map((failure) => ({
      failure,
      count: inWindow.filter((fact) => fact.failure === failure).length,
    }));
    const eta = [...new Set(inWindow.map((fact) => fact.platform))].map((platform) =>
      pct(
        inWindow.filter((fact) => fact.platform === platform).flatMap((fact) => fact.eta.map(([p, r]) => Math.abs(p - r))),
        50,
      ),
    );
    return { buckets, sources, stages, failures, eta };
  };
  const times = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    figures(Date.now() - windowMs, Date.now());
    times.push(performance.now() - started);
  }
  return { facts: facts.length, times };
}

export async function insightsScenario({ log, browser, appUrl, runs = 3, facts = 100_000 }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${appUrl}/sources`);
    log(`insights: writing ${facts.toLocaleString('en')} jobs' facts`);
    await page.evaluate(seedFacts, [facts, PLATFORMS]);
    await page.goto(`${appUrl}/insights?window=7d`);
    await page.evaluate(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((entry) => entry.duration))).observe({ type: 'longtask' });
    });
    await page.getByTestId('insights-jobs').waitFor({ timeout: 60_000 });
    const firstLoadMs = await page.evaluate(() => performance.getEntriesByName('genwatch:insights-painted')[0]?.startTime);
    const switches = [];
    const painted = () => page.evaluate(() => performance.getEntriesByName('genwatch:insights-painted').length);
    for (let run = 0; run < runs; run++) {
      for (const span of WINDOWS) {
        const before = await painted();
        await page.evaluate(() => (window.__longTasks = []));
        await page.getByRole('button', { name: { '1h': 'last hour', '24h': 'last 24 h', '7d': 'last 7 days' }[span] }).click();
        await page.waitForFunction((count) => performance.getEntriesByName('genwatch:insights-painted').length > count, before, { timeout: 30_000 });
        const figures = await page.evaluate(() => {
          const asked = performance.getEntriesByName('genwatch:insights-asked').at(-1).startTime;
          const shown = performance.getEntriesByName('genwatch:insights-painted').at(-1).startTime;
          const status = document.querySelector('[data-testid="insights-status"]')?.textContent ?? '';
          return { renderMs: shown - asked, computeMs: Number(/worked out in (\d+) ms/.exec(status)?.[1]), longestTaskMs: Math.max(0, ...window.__longTasks) };
        });
        const jobs = Number((await page.getByTestId('insights-jobs').textContent()).replace(/,/g, ''));
        log(`insights ${span} run ${run + 1}: ${jobs} jobs, ${figures.renderMs.toFixed(0)} ms to paint (${figures.computeMs} ms in the worker)`);
        switches.push({ window: span, jobs, ...figures });
      }
    }
    log('insights: the naive scan');
    const naive = await page.evaluate(naiveScan, [7 * 86_400_000, runs]);
    return { facts, firstLoadMs, switches, naive, errors: errors.slice(0, 5) };
  } finally {
    await context.close();
  }
}
