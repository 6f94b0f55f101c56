// The tabs scenarios of npm run bench: one browser with 1, 4 and 8 tabs of a dashboard
// following 30 running CodeBegen jobs, behind a relay (in-memory log) or on the platform
// itself. genwatch's tabs share one stream to the relay, or one feed layer (in the feed
// worker); the baseline is the same build with Web Locks taken away, where each tab holds its
// own stream or feeds (the design before). On the platform, a third browser has no
// SharedWorker, so one of its tabs holds the feeds. Measures the streams to the relay or the
// connections to the platform, a new tab's first row painted, main-thread busy time of all
// tabs together, the whole browser's CPU (workers included) and the tabs' heap.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAppServer } from '../server/app-server.js';
import { startCodebegenPlatform } from '../server/codebegen/platform.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'bench-tabs-token-0123456789abcdef';
/** how long a tab may take to paint its first row before it is counted as never */
const FIRST_ROW_TIMEOUT_MS = 10_000;

function startRelay(sourcesFile, allowOrigin) {
  const child = spawn(process.execPath, ['dist-relay/main.js', '--sources', sourcesFile, '--port', '0', '--allow-origin', allowOrigin], {
    cwd: ROOT,
    env: { ...process.env, RELAY_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = /is running: (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve({ child, url: match[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the relay exited ${code}: ${output}`)));
  });
}

async function viewersOf(relayUrl) {
  const text = await fetch(`${relayUrl}/metrics`).then((response) => response.text());
  return Number(/^genwatch_relay_viewers (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** CPU seconds of every Chromium process so far (the browser, its renderers, GPU and network services) */
async function chromiumCpuSeconds() {
  const ticksPerSecond = 100;
  let ticks = 0;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // the command sits in parentheses and may hold spaces: the fields after it are fixed
    const close = stat.lastIndexOf(')');
    if (close < 0 || !/\((chromium|chrome)[^)]*\)/.test(stat.slice(stat.indexOf('('), close + 1))) continue;
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

/**
 * How a browser's tabs hold their feeds: shared by genwatch's feed worker, shared by one of
 * the tabs (a browser without SharedWorker), or each tab its own (no Web Locks: the design before).
 */
const MODES = { worker: 'genwatch', tab: 'tabHolds', perTab: 'perTab' };

/** how long after a flooded job is opened its burst is watched for long tasks */
const BURST_WATCH_MS = 6000;

/**
 * A job opened by URL in the newest tab whose stream then floods (20,000 events in a second):
 * the first live event painted after that navigation, and the longest main-thread task of any
 * tab while the flood is read (in the opening tab, after its first live event: its own start
 * is not the burst's).
 */
async function openFloodedJob(pages, startFlooded) {
  const froms = await Promise.all(pages.map((page) => page.evaluate(() => performance.now())));
  const jobUrl = await startFlooded();
  const opener = pages.at(-1);
  await opener.goto(jobUrl);
  const firstLive = await opener
    .waitForFunction(() => performance.getEntriesByName('genwatch:first-live-event-painted')[0]?.startTime, undefined, { timeout: FIRST_ROW_TIMEOUT_MS })
    .then((handle) => handle.jsonValue())
    .catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, BURST_WATCH_MS));
  let longest = 0;
  for (const [index, page] of pages.entries()) {
    const from = page === opener ? (firstLive ?? Infinity) : froms[index];
    const tasks = await page.evaluate(() => window.__longTasks ?? []);
    for (const [startTime, duration] of tasks) if (startTime >= from) longest = Math.max(longest, duration);
  }
  return { openFirstLiveMs: firstLive === undefined ? undefined : Math.round(firstLive), burstLongestTaskMs: Math.round(longest) };
}

/** one browser (context) with `tabs` tabs of the board, opened one after the other */
async function browserWithTabs({ browser, appUrl, tabs, mode, connections, settled, startFlooded }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // the design before: no Web Locks, so no tab leads and each holds a stream of its own
  if (mode === 'perTab') await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { value: undefined, configurable: true }));
  if (mode === 'tab') await context.addInitScript(() => Object.defineProperty(window, 'SharedWorker', { value: undefined, configurable: true }));
  // the first row's frame, seen from the document's start (before the app's own script runs)
  await context.addInitScript(() => {
    const observer = new MutationObserver(() => {
      if (!document.querySelector('tbody tr[data-job]')) return;
      requestAnimationFrame(() => (window.__firstRowAt = performance.now()));
      observer.disconnect();
    });
    observer.observe(document, { childList: true, subtree: true });
    // every task over 50 ms, in the page's own clock
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
  });
  const pages = [];
  const firstRowMs = [];
  try {
    for (let index = 0; index < tabs; index++) {
      const page = await context.newPage();
      pages.push(page);
      await page.goto(appUrl);
      // from the navigation's start, in the page's own clock: the frame that first has a row
      const paintedAt = await page
        .waitForFunction(() => window.__firstRowAt, undefined, { timeout: FIRST_ROW_TIMEOUT_MS })
        .then((handle) => handle.jsonValue())
        .catch(() => undefined);
      firstRowMs.push(paintedAt === undefined ? undefined : Math.round(paintedAt));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const sessions = await Promise.all(pages.map((page) => context.newCDPSession(page)));
    await Promise.all(sessions.map((cdp) => cdp.send('Performance.enable')));
    const taskSeconds = async () => {
      let sum = 0;
      for (const cdp of sessions) sum += (await cdp.send('Performance.getMetrics')).metrics.find((metric) => metric.name === 'TaskDuration').value;
      return sum;
    };
    const before = await taskSeconds();
    const cpuBefore = await chromiumCpuSeconds();
    const measuredFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const seconds = (Date.now() - measuredFrom) / 1000;
    const busyPercent = (((await taskSeconds()) - before) / seconds) * 100;
    const browserCpuPercent = (((await chromiumCpuSeconds()) - cpuBefore) / seconds) * 100;
    let heapMb = 0;
    for (const cdp of sessions) {
      await cdp.send('HeapProfiler.collectGarbage');
      heapMb += (await cdp.send('Performance.getMetrics')).metrics.find((metric) => metric.name === 'JSHeapUsedSize').value / 2 ** 20;
    }
    const newTabs = firstRowMs.slice(1);
    const measured = { ...(await connections()) };
    const burst = startFlooded ? await openFloodedJob(pages, startFlooded) : {};
    return {
      tabs,
      ...measured,
      ...burst,
      firstTabFirstRowMs: firstRowMs[0],
      newTabFirstRowMs: newTabs.length ? Math.max(...newTabs.map((ms) => ms ?? Infinity)) : undefined,
      tabsWithoutRows: firstRowMs.filter((ms) => ms === undefined).length,
      busyPercent: Number(busyPercent.toFixed(1)),
      browserCpuPercent: Number(browserCpuPercent.toFixed(1)),
      heapMb: Number(heapMb.toFixed(1)),
    };
  } finally {
    await context.close();
    await until(settled, 10_000);
  }
}

/** one browser at a time with 1, 4 and 8 tabs in each mode, alternating which goes first */
async function eachBrowser({ log, runs, label, modes, open }) {
  const out = Object.fromEntries(modes.map((mode) => [MODES[mode], []]));
  for (let run = 0; run < runs; run++) {
    for (const tabs of [1, 4, 8]) {
      for (const mode of run % 2 ? [...modes].reverse() : modes) {
        log(`${label} ${tabs} ${mode} run ${run + 1}/${runs}`);
        out[MODES[mode]].push(await open(tabs, mode));
      }
    }
  }
  return out;
}

const RUNNING_JOBS = { jobDurationMs: 10 * 60_000, initialJobs: 30, heartbeatMs: 5000 };

export async function tabsScenario({ log, browser, runs = 1 }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'genwatch-bench-tabs-'));
  const platform = await startCodebegenPlatform(RUNNING_JOBS);
  const sourcesFile = path.join(dir, 'sources.json');
  await writeFile(
    sourcesFile,
    JSON.stringify([{ id: 'codebegen-demo', name: 'CodeBegen (demo)', kind: 'codebegen', baseUrl: platform.url, token: platform.devToken }]),
  );
  const relayConfig = { url: '', token: TOKEN };
  const app = await startAppServer({ root: path.join(ROOT, 'dist'), sources: async () => '[]', relay: relayConfig });
  const relay = await startRelay(sourcesFile, app.url);
  relayConfig.url = relay.url;
  try {
    return await eachBrowser({
      log,
      runs,
      label: 'tabs',
      // in relay mode the tabs share the relay stream through one of them, worker or not
      modes: ['worker', 'perTab'],
      open: (tabs, mode) =>
        browserWithTabs({
          browser,
          appUrl: app.url,
          tabs,
          mode,
          connections: async () => ({ relayStreams: await viewersOf(relay.url) }),
          settled: async () => (await viewersOf(relay.url)) === 0,
        }),
    });
  } finally {
    relay.child.kill('SIGTERM');
    await app.close();
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same browsers on the platform itself: genwatch's tabs share one feed layer, with one
 * budget of 4 streams for the origin; per tab, each tab wants 4 and the browser's cap of six
 * connections per origin holds the rest (listings, polls) back.
 */
export async function tabsDirectScenario({ log, browser, runs = 1 }) {
  const platform = await startCodebegenPlatform(RUNNING_JOBS);
  const sources = [{ id: 'codebegen-demo', name: 'CodeBegen (demo)', kind: 'codebegen', baseUrl: platform.url, token: platform.devToken }];
  const app = await startAppServer({ root: path.join(ROOT, 'dist'), sources: async () => JSON.stringify(sources) });
  try {
    return await eachBrowser({
      log,
      runs,
      label: 'tabs on the platform',
      modes: ['worker', 'tab', 'perTab'],
      open: (tabs, mode) => {
        platform.resetPeakConnections();
        return browserWithTabs({
          browser,
          appUrl: app.url,
          tabs,
          mode,
          startFlooded: async () => {
            const id = platform.startGeneration({ prompt: 'Opened in a new tab, then floods', __durationMs: 60_000, __fail: false });
            await fetch(`${platform.url}/__faults`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ kind: 'flood', job: id, rate: 20_000, seconds: 1, times: 1 }),
            });
            return `${app.url}/jobs/codebegen-demo/${id}`;
          },
          connections: async () => {
            const { openStreams, peakConnections } = platform.stats();
            return { platformStreams: openStreams, platformConnections: peakConnections };
          },
          settled: async () => platform.stats().openConnections === 0,
        });
      },
    });
  } finally {
    await app.close();
    await platform.close();
  }
}
