#!/usr/bin/env node
// npm run bench: builds genwatch and the benchmark pages, runs every scenario in headless
// Chromium against genwatch and the naive baseline in the same run, and writes
// bench/results.json and bench/results.md.
//
//   npm run bench -- --runs 3 --only ingest,burst   (a partial run keeps the other figures)
//   BENCH_WIRE=guide npm run bench                   (the demo CodeBegen's wire; default upstream)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startAppServer } from '../server/app-server.js';
import { startCodebegenPlatform } from '../server/codebegen/platform.js';
import { insightsScenario } from './insights.mjs';
import { relayScenario } from './relay.mjs';
import { tabsDirectScenario, tabsScenario } from './tabs.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const APP_DIST = path.join(ROOT, 'dist');
const BENCH_DIST = path.join(ROOT, 'bench/dist');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const SCENARIOS = ['bundle', 'wire', 'open', 'ingest', 'sustainable', 'burst', 'memory', 'board', 'charts', 'insights', 'relay', 'tabs', 'tabsDirect'];

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const RUNS = Number(option('runs', '3'));
const ONLY = option('only', SCENARIOS.join(',')).split(',');
const SKIP_BUILD = args.includes('--no-build');

const median = (values) => {
  const sorted = values.filter((value) => typeof value === 'number' && Number.isFinite(value)).sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const log = (line) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

function build() {
  log('building genwatch and the benchmark pages');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npx', ['vite', 'build', '--config', 'bench/vite.config.ts'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npm', ['run', 'build:relay', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/** Board route JS: the entry script of index.html and the chunks it preloads, gzipped. */
function bundleFigures() {
  const scriptsOf = (dist, html) => {
    const text = readFileSync(path.join(dist, html), 'utf8');
    const files = [...text.matchAll(/<script[^>]+src="([^"]+\.js)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map(
      (match) => match[1] ?? match[2],
    );
    return files.map((file) => path.join(dist, file.replace(/^\//, '')));
  };
  const gzipKb = (files) => files.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0) / 1024;
  const boardFiles = scriptsOf(APP_DIST, 'index.html');
  // what went into the board route's chunks, from their source maps
  const boardSources = boardFiles.flatMap((file) => JSON.parse(readFileSync(`${file}.map`, 'utf8')).sources);
  const lazy = (name) => !boardSources.some((source) => source.includes(`node_modules/${name}/`));
  const naiveFiles = scriptsOf(BENCH_DIST, 'naive.html');
  return {
    genwatch: {
      boardRouteKb: Number(gzipKb(boardFiles).toFixed(1)),
      chartsLazy: lazy('chart.js'),
      highlighterLazy: lazy('prismjs'),
      chunks: boardFiles.map((file) => path.basename(file)),
    },
    naive: { boardRouteKb: Number(gzipKb(naiveFiles).toFixed(1)), chartsLazy: false, highlighterLazy: true },
  };
}

async function main() {
  const startedAt = Date.now();
  if (!SKIP_BUILD) build();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const platform = await startCodebegenPlatform({ wire: process.env.BENCH_WIRE, jobDurationMs: 10 * 60_000, heartbeatMs: 5000 });
  // the benchmark pages run under the same CSP as the app: the platform must be a source
  const benchServer = await startAppServer({
    root: BENCH_DIST,
    sources: async () => JSON.stringify([{ id: 'bench', kind: 'codebegen', baseUrl: platform.url }]),
  });
  const appServer = await startAppServer({
    root: APP_DIST,
    sources: async () =>
      JSON.stringify([{ id: 'codebegen-demo', name: 'CodeBegen (demo)', kind: 'codebegen', baseUrl: platform.url, token: platform.devToken }]),
  });
  const results = {
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      chromium: browser.version(),
      date: new Date().toISOString(),
    },
    runs: RUNS,
    scenarios: {},
  };

  /** a fresh page (cold: its own context) on one of the benchmark pages */
  async function benchPage(subject) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${benchServer.url}/${subject === 'genwatch' ? 'index' : subject}.html`);
    await page.waitForFunction(() => 'bench' in window || 'wire' in window);
    return { page, context, errors };
  }

  async function inPage(subject, scenario, options = {}) {
    const { page, context, errors } = await benchPage(subject);
    try {
      const figures = await page.evaluate(([name, opts]) => window.bench[name](opts), [scenario, options]);
      if (errors.length) figures.pageErrors = errors.slice(0, 5);
      return figures;
    } finally {
      await context.close();
    }
  }

  async function repeated(scenario, runs, options) {
    const out = { genwatch: [], naive: [] };
    for (let run = 0; run < runs; run++) {
      // alternate the order so neither side always runs on a warmer machine
      const order = run % 2 ? ['naive', 'genwatch'] : ['genwatch', 'naive'];
      for (const subject of order) {
        log(`${scenario} ${subject} run ${run + 1}/${runs}`);
        out[subject].push(await inPage(subject, scenario, options?.[subject] ?? options?.both));
      }
    }
    return out;
  }

  const scenarios = {
    async bundle() {
      return bundleFigures();
    },

    async wire() {
      const events = 100_000;
      const url = `${platform.url}/demo/firehose?events=${events}&size=300`;
      const out = { genwatch: [], native: [] };
      const { page, context } = await benchPage('wire');
      try {
        for (let run = 0; run < RUNS; run++) {
          for (const client of run % 2 ? ['native', 'genwatch'] : ['genwatch', 'native']) {
            log(`wire ${client} run ${run + 1}/${RUNS}`);
            out[client].push(await page.evaluate(([name, streamUrl, count]) => window.wire[name](streamUrl, count), [client, url, events]));
          }
        }
      } finally {
        await context.close();
      }
      return out;
    },

    async open() {
      const out = [];
      for (let run = 0; run < Math.max(RUNS, 5); run++) {
        const started = await fetch(`${platform.url}/api/v2/generation/generate`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${platform.devToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ prompt: 'A todo API, opened from a shared link' }),
        }).then((response) => response.json());
        // let it run a little, as a job someone shares would be
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        log(`open run ${run + 1}`);
        await page.goto(`${appServer.url}/jobs/codebegen-demo/${started.generation_id}`);
        const handle = await page.waitForFunction(() => performance.getEntriesByName('genwatch:first-live-event-painted')[0]?.startTime, undefined, {
          timeout: 30_000,
        });
        const navigation = await page.evaluate(() => {
          const entry = performance.getEntriesByType('navigation')[0];
          return { domContentLoaded: entry.domContentLoadedEventEnd, load: entry.loadEventEnd };
        });
        out.push({ firstLiveEventMs: Math.round(await handle.jsonValue()), ...navigation });
        await context.close();
      }
      return { genwatch: out };
    },

    ingest: () => repeated('ingest', RUNS, { both: { jobs: 1000, rate: 5000, seconds: 30 } }),
    sustainable: () => repeated('sustainable', RUNS, { both: { jobs: 1000, stepSeconds: 2 } }),
    burst: () => repeated('burst', RUNS, { both: { jobs: 1000, events: 20_000 } }),
    board: () => repeated('board', RUNS, { both: { jobs: 5000, seconds: 10 } }),
    charts: () => repeated('charts', RUNS, { both: { count: 12, points: 10_000, hz: 10, seconds: 10 } }),
    insights: () => insightsScenario({ log, browser, appUrl: appServer.url, runs: RUNS }),
    // one run: it takes a NATS server, two relays, 50 viewers and a browser for 30 s
    relay: () => relayScenario({ log, browser, benchUrl: benchServer.url }),
    // the baseline is genwatch's own build with each tab on a stream of its own
    tabs: () => tabsScenario({ log, browser, runs: RUNS }),
    tabsDirect: () => tabsDirectScenario({ log, browser, runs: RUNS }),

    async memory() {
      const out = {};
      for (const subject of ['genwatch', 'naive']) {
        const { page, context, errors } = await benchPage(subject);
        const cdp = await context.newCDPSession(page);
        const heapMb = async () => {
          await cdp.send('HeapProfiler.collectGarbage');
          const usage = await cdp.send('Runtime.getHeapUsage');
          return usage.usedSize / 2 ** 20;
        };
        const samples = [];
        let fed = 0;
        const budgetMs = 100_000;
        const begin = Date.now();
        try {
          await page.evaluate((jobs) => window.bench.memorySetup(jobs), 1000);
          for (let step = 0; step < 10; step++) {
            const left = budgetMs - (Date.now() - begin);
            if (left <= 0) break;
            log(`memory ${subject}: ${fed.toLocaleString('en')} events, ${samples.at(-1)?.heapMb?.toFixed(0) ?? '-'} MB`);
            const stepResult = await page.evaluate(([count, timeoutMs]) => window.bench.memoryStep(count, timeoutMs), [100_000, left]);
            fed += stepResult.sent;
            samples.push({ events: fed, heapMb: Number((await heapMb()).toFixed(1)) });
            if (stepResult.sent < 100_000) break;
          }
        } catch (error) {
          errors.push(String(error.message ?? error));
        } finally {
          await context.close();
        }
        const heaps = samples.map((sample) => sample.heapMb);
        const third = Math.max(1, Math.floor(heaps.length / 3));
        const first = median(heaps.slice(0, third));
        const last = median(heaps.slice(-third));
        out[subject] = {
          events: fed,
          complete: fed >= 1_000_000,
          heapMb: heaps.at(-1),
          growthPercent: first ? Number((((last - first) / first) * 100).toFixed(1)) : undefined,
          samples,
          seconds: Math.round((Date.now() - begin) / 1000),
          errors: errors.slice(0, 3),
        };
      }
      return out;
    },
  };

  try {
    for (const name of SCENARIOS) {
      if (!ONLY.includes(name)) continue;
      log(`scenario ${name}`);
      try {
        results.scenarios[name] = await scenarios[name]();
      } catch (error) {
        log(`scenario ${name} failed: ${error.stack ?? error}`);
        results.scenarios[name] = { error: String(error.message ?? error) };
      }
    }
  } finally {
    await browser.close();
    await Promise.all([benchServer.close(), appServer.close(), platform.close()]);
  }
  results.minutes = Number(((Date.now() - startedAt) / 60_000).toFixed(1));
  const resultsPath = path.join(ROOT, 'bench/results.json');
  if (ONLY.length < SCENARIOS.length && existsSync(resultsPath)) {
    // a partial run replaces its scenarios and keeps the figures of the others
    const previous = JSON.parse(readFileSync(resultsPath, 'utf8'));
    results.scenarios = { ...previous.scenarios, ...results.scenarios };
    results.minutes = previous.minutes;
    // every scenario rerun since the last whole run, not only this one's
    results.rerun = { scenarios: [...new Set([...(previous.rerun?.scenarios ?? []), ...ONLY])], date: results.machine.date };
  }
  const table = summarize(results);
  results.table = table;
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const markdownPath = path.join(ROOT, 'bench/results.md');
  // the soak's section (npm run soak) is its own and stays
  const soak = existsSync(markdownPath) ? /\n## Soak\n[\s\S]*$/.exec(readFileSync(markdownPath, 'utf8'))?.[0] : undefined;
  const markdown = renderMarkdown(results, table);
  writeFileSync(markdownPath, soak ? `${markdown}${soak}` : markdown);
  console.log(`\n${markdown}`);
}

/** One row per target: the medians of genwatch and of the baseline, their ratio, and whether it holds. */
function summarize(results) {
  const s = results.scenarios;
  const rows = [];
  const med = (scenario, subject, pick) => {
    const runs = s[scenario]?.[subject];
    return Array.isArray(runs) ? median(runs.map(pick)) : undefined;
  };
  const row = (scenario, metric, target, genwatch, baseline, met, unit = '') =>
    rows.push({ scenario, metric, target, genwatch, baseline, unit, ratio: genwatch && baseline ? Number((baseline / genwatch).toFixed(2)) : undefined, met });
  // ratios read "times better": baseline / genwatch where less is better, genwatch / baseline where more is
  const longestTask = (run) => run.longTaskMax;
  const longestFrame = (run) => run.longFrameMax;

  if (s.ingest && !s.ingest.error) {
    const frame = med('ingest', 'genwatch', (run) => run.frameP95);
    row(
      'ingest',
      'frame interval p95 (ms)',
      '<= 20',
      frame,
      med('ingest', 'naive', (run) => run.frameP95),
      frame <= 20,
    );
    row(
      'ingest',
      'frames missed (interval over 25 ms, %)',
      '',
      med('ingest', 'genwatch', (run) => run.framesMissedPercent),
      med('ingest', 'naive', (run) => run.framesMissedPercent),
      undefined,
    );
    const task = med('ingest', 'genwatch', longestTask);
    row('ingest', 'longest task (ms; 0: none over 50)', '<= 100', task, med('ingest', 'naive', longestTask), task <= 100);
    row('ingest', 'longest animation frame (ms)', '', med('ingest', 'genwatch', longestFrame), med('ingest', 'naive', longestFrame), undefined);
    const m2p = med('ingest', 'genwatch', (run) => run.messageToPaint.p95);
    row(
      'ingest',
      'message-to-paint p95 (ms)',
      '<= 100',
      m2p,
      med('ingest', 'naive', (run) => run.messageToPaint.p95),
      m2p <= 100,
    );
  }
  if (s.sustainable && !s.sustainable.error) {
    const ours = med('sustainable', 'genwatch', (run) => run.eventsPerSecond);
    const theirs = med('sustainable', 'naive', (run) => run.eventsPerSecond);
    rows.push({
      scenario: 'ingest',
      metric: 'sustainable events/s',
      target: '>= 10x baseline',
      genwatch: ours,
      baseline: theirs,
      ratio: theirs ? Number((ours / theirs).toFixed(1)) : undefined,
      met: theirs ? ours >= 10 * theirs : ours > 0,
    });
  }
  if (s.burst && !s.burst.error) {
    const task = med('burst', 'genwatch', longestTask);
    row('burst', 'longest task (ms; 0: none over 50)', '<= 50', task, med('burst', 'naive', longestTask), task <= 50);
    row('burst', 'longest animation frame (ms)', '', med('burst', 'genwatch', longestFrame), med('burst', 'naive', longestFrame), undefined);
    const current = med('burst', 'genwatch', (run) => run.currentAfterMs);
    row(
      'burst',
      'board current after (ms)',
      '<= 2000',
      current,
      med('burst', 'naive', (run) => run.currentAfterMs),
      current <= 2000,
    );
  }
  if (s.memory && !s.memory.error) {
    const ours = s.memory.genwatch;
    const theirs = s.memory.naive;
    const note = (run) => (run && !run.complete ? ` (stopped at ${run.events.toLocaleString('en')} events)` : '');
    rows.push({
      scenario: 'memory',
      metric: 'JS heap after GC (MB)',
      target: '<= 150',
      genwatch: ours?.heapMb,
      baseline: theirs?.heapMb,
      baselineNote: note(theirs),
      genwatchNote: note(ours),
      ratio: ours?.heapMb && theirs?.heapMb ? Number((theirs.heapMb / ours.heapMb).toFixed(1)) : undefined,
      met: ours?.complete && ours.heapMb <= 150,
    });
    rows.push({
      scenario: 'memory',
      metric: 'heap growth, first to last third (%)',
      target: '<= 10',
      genwatch: ours?.growthPercent,
      baseline: theirs?.growthPercent,
      met: ours?.complete && Math.abs(ours.growthPercent) <= 10,
    });
  }
  if (s.board && !s.board.error) {
    const frame = med('board', 'genwatch', (run) => run.frameP95);
    row(
      'board',
      'frame interval p95 (ms)',
      '<= 16.7',
      frame,
      med('board', 'naive', (run) => run.frameP95),
      frame <= 16.7,
    );
    row(
      'board',
      'frames missed (interval over 25 ms, %)',
      '',
      med('board', 'genwatch', (run) => run.framesMissedPercent),
      med('board', 'naive', (run) => run.framesMissedPercent),
      undefined,
    );
    const rowsInDom = med('board', 'genwatch', (run) => run.domRowsMax);
    row(
      'board',
      'job rows in the DOM',
      '<= 150',
      rowsInDom,
      med('board', 'naive', (run) => run.domRowsMax),
      rowsInDom <= 150,
    );
  }
  if (s.charts && !s.charts.error) {
    const work = med('charts', 'genwatch', (run) => run.chartWork.p95);
    row(
      'charts',
      'chart work per frame p95 (ms)',
      '<= 6',
      work,
      med('charts', 'naive', (run) => run.chartWork.p95),
      work <= 6,
    );
  }
  if (s.wire && !s.wire.error) {
    const ours = median(s.wire.genwatch.map((run) => run.megabytesPerSecond));
    const native = median(s.wire.native.map((run) => run.megabytesPerSecond));
    rows.push({
      scenario: 'wire',
      metric: 'parsed MB/s (baseline: native EventSource)',
      target: '>= native',
      genwatch: ours,
      baseline: native,
      ratio: native ? Number((ours / native).toFixed(2)) : undefined,
      met: ours >= native,
    });
  }
  if (s.open && !s.open.error) {
    const first = median(s.open.genwatch.map((run) => run.firstLiveEventMs));
    rows.push({
      scenario: 'open',
      metric: 'first live event painted (ms after navigation start)',
      target: '<= 500',
      genwatch: first,
      baseline: undefined,
      met: first <= 500,
    });
  }
  if (s.bundle && !s.bundle.error) {
    const { genwatch, naive } = s.bundle;
    row('bundle', 'board route JS (KB gzip)', '<= 150', genwatch.boardRouteKb, naive.boardRouteKb, genwatch.boardRouteKb <= 150);
    rows.push({
      scenario: 'bundle',
      metric: 'chart.js and Prism outside the board route',
      target: 'yes',
      genwatch: genwatch.chartsLazy && genwatch.highlighterLazy ? 'yes' : 'no',
      baseline: naive.chartsLazy ? 'yes' : 'no',
      met: genwatch.chartsLazy && genwatch.highlighterLazy,
    });
  }
  if (s.insights && !s.insights.error) {
    const { switches, naive, facts } = s.insights;
    const week = switches.filter((entry) => entry.window === '7d');
    const paint = median(week.map((entry) => entry.renderMs));
    const scan = median(naive.times);
    row('insights', `7-day window of ${facts.toLocaleString('en')} jobs, choice to paint (ms)`, '<= 300', Math.round(paint), Math.round(scan), paint <= 300);
    rows.push({ scenario: 'insights', metric: 'of which computing in the worker (ms)', target: '', genwatch: median(week.map((entry) => entry.computeMs)) });
    rows.push({
      scenario: 'insights',
      metric: 'longest main-thread task while switching windows (ms)',
      target: '',
      genwatch: Math.round(Math.max(...switches.map((entry) => entry.longestTaskMs))),
      baseline: Math.round(Math.max(...naive.times)),
      baselineNote: ' (the scan itself)',
    });
  }
  if (s.relay && !s.relay.error) {
    const r = s.relay.genwatch;
    rows.push({ scenario: 'relay', metric: 'events/s published (asked: 5,000)', target: '', genwatch: r.publishedPerSecond });
    rows.push({ scenario: 'relay', metric: 'publish-to-viewer p50, open jobs and rows on screen (ms)', target: '', genwatch: r.latencyP50Ms });
    rows.push({
      scenario: 'relay',
      metric: 'publish-to-viewer p99, open jobs and rows on screen (ms)',
      target: '<= 250',
      genwatch: r.latencyP99Ms,
      met: r.latencyP99Ms <= 250,
    });
    rows.push({
      scenario: 'relay',
      metric: 'events each viewer parses per s (baseline: direct mode, every event)',
      target: '',
      genwatch: r.eventsPerViewerPerSecond,
      baseline: r.directEventsPerViewerPerSecond,
      ratio: r.eventsPerViewerPerSecond ? Number((r.directEventsPerViewerPerSecond / r.eventsPerViewerPerSecond).toFixed(1)) : undefined,
    });
    rows.push({
      scenario: 'relay',
      metric: 'platform connections per job (baseline: direct mode, one per viewer)',
      target: '1',
      genwatch: 1,
      baseline: r.viewers + 1,
      ratio: r.viewers + 1,
      met: true,
    });
    if (r.directBrowserBusyPercent !== undefined) {
      rows.push({
        scenario: 'relay',
        metric: 'dashboard main thread busy (% of the run; baseline: direct mode, same load)',
        target: '',
        genwatch: r.browserBusyPercent,
        baseline: r.directBrowserBusyPercent,
        ratio: r.browserBusyPercent ? Number((r.directBrowserBusyPercent / r.browserBusyPercent).toFixed(1)) : undefined,
      });
      rows.push({
        scenario: 'relay',
        metric: 'dashboard JS heap after GC (MB; baseline: direct mode, same load)',
        target: '',
        genwatch: r.browserHeapMb,
        baseline: r.directBrowserHeapMb,
        ratio: r.browserHeapMb ? Number((r.directBrowserHeapMb / r.browserHeapMb).toFixed(1)) : undefined,
      });
    }
    rows.push({
      scenario: 'relay',
      metric: 'serving relay CPU per 1,000 jobs (% of a core)',
      target: '',
      genwatch: Number(((r.relayCpuPercent * 1000) / r.jobs).toFixed(1)),
    });
    rows.push({
      scenario: 'relay',
      metric: 'serving relay memory per 1,000 jobs (RSS MB)',
      target: '',
      genwatch: Number(((r.relayRssMb * 1000) / r.jobs).toFixed(1)),
    });
    rows.push({
      scenario: 'relay',
      metric: 'acknowledged events lost when a relay is killed',
      target: '0',
      genwatch: r.lostAcknowledged,
      met: r.lostAcknowledged === 0 && r.acknowledgedChecked > 0,
    });
  }
  for (const [name, label] of [
    ['tabs', 'tabs'],
    ['tabsDirect', 'tabs on the platform'],
  ]) {
    if (!s[name] || s[name].error) continue;
    // baseline: the same build, each tab with a stream (or feeds) of its own
    for (const tabs of [1, 4, 8]) {
      const at = (subject, pick) => median(s[name][subject].filter((run) => run.tabs === tabs).map(pick));
      const both = (metric, target, pick, met, { against = 'perTab', scenario = `${label} ${tabs}` } = {}) => {
        const genwatch = at('genwatch', pick);
        const baseline = at(against, pick);
        rows.push({
          scenario,
          metric,
          target,
          genwatch,
          baseline,
          ratio: genwatch && baseline && Number.isFinite(baseline) ? Number((baseline / genwatch).toFixed(2)) : undefined,
          met: met?.(genwatch),
        });
      };
      if (name === 'tabs') {
        both(
          'streams from the browser to the relay',
          '1',
          (run) => run.relayStreams,
          (value) => value === 1,
        );
      } else {
        // the browser's cap is six: four streams and two requests at once reach it in one tab too
        both('connections from the browser to the platform, most at once', '', (run) => run.platformConnections);
        both(
          'streams open to the platform',
          '<= 4',
          (run) => run.platformStreams,
          (value) => value <= 4,
        );
      }
      if (tabs > 1) {
        both(
          'a new tab: its first row painted, from navigation (ms; the slowest tab)',
          '<= 300',
          (run) => run.newTabFirstRowMs,
          (value) => value <= 300,
        );
        both(
          'tabs with no row after 10 s',
          '0',
          (run) => run.tabsWithoutRows,
          (value) => value === 0,
        );
      }
      both('main-thread busy, all tabs (% of a core)', '', (run) => run.busyPercent);
      both("the whole browser's CPU, workers included (% of a core)", '', (run) => run.browserCpuPercent);
      both('JS heap after GC, all tabs (MB)', '', (run) => run.heapMb);
      const opened = [
        [
          'a job opened by URL in the newest tab: first live event painted, from navigation (ms)',
          '<= 500',
          (run) => run.openFirstLiveMs ?? Infinity,
          (value) => value <= 500,
        ],
        [
          'its stream floods 20,000 events in a second: longest task of any tab (ms; 0: none over 50)',
          '<= 50',
          (run) => run.burstLongestTaskMs,
          (value) => value <= 50,
        ],
      ];
      if (name === 'tabsDirect') for (const [metric, target, pick, met] of opened) both(metric, target, pick, met);
      // the feed worker against the same feeds held by one of the tabs (a browser without SharedWorker)
      if (s[name].tabHolds?.length) {
        const againstTab = { against: 'tabHolds', scenario: `${label} ${tabs}, worker against a tab holding` };
        if (tabs > 1)
          both(
            'a new tab: its first row painted, from navigation (ms; the slowest tab)',
            '<= 300',
            (run) => run.newTabFirstRowMs,
            (value) => value <= 300,
            againstTab,
          );
        both('main-thread busy, all tabs (% of a core)', '', (run) => run.busyPercent, undefined, againstTab);
        both("the whole browser's CPU, workers included (% of a core)", '', (run) => run.browserCpuPercent, undefined, againstTab);
        both('JS heap after GC, all tabs (MB)', '', (run) => run.heapMb, undefined, againstTab);
        for (const [metric, target, pick, met] of opened) both(metric, target, pick, met, againstTab);
      }
    }
  }
  return rows;
}

function renderMarkdown(results, table) {
  const fmt = (value) => (value === undefined ? '—' : typeof value === 'number' ? value.toLocaleString('en', { maximumFractionDigits: 2 }) : String(value));
  const lines = [
    `Medians of ${results.runs} runs (memory and bundle: one), ${results.machine.cores} cores (${results.machine.cpu}), Chromium ${results.machine.chromium}, Node ${results.machine.node}, ${results.machine.date.slice(0, 10)}; the whole run took ${results.minutes} min.${results.rerun ? ` Rerun later: ${results.rerun.scenarios.join(', ')}.` : ''}`,
    '',
    '| scenario | figure | target | genwatch | naive baseline | advantage (x) | met |',
    '|---|---|---|---|---|---|---|',
    ...table.map(
      (row) =>
        `| ${row.scenario} | ${row.metric} | ${row.target} | ${fmt(row.genwatch)}${row.genwatchNote ?? ''} | ${fmt(row.baseline)}${row.baselineNote ?? ''} | ${fmt(row.ratio)} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
