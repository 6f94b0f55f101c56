#!/usr/bin/env node
// npm run soak: one board tab on the demo at a job a second, as a browser left open, sampled
// every 30 s: JS heap after a forced GC (the tab's and the feed worker's), event listeners, DOM
// nodes, the browser's connections to the demo platforms. Writes bench/soak.json and the "Soak" section of bench/results.md.
//
//   npm run soak -- --minutes 60 --every 30    (defaults)
//   npm run soak -- --minutes 5 --no-build     (a short look)
//   npm run soak -- --keep 500                 (finished jobs kept; default the dashboard's 2,000)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const MINUTES = option('minutes', 60);
const EVERY_S = option('every', 30);
const PORT = option('port', 5380);
const KEEP = option('keep', undefined);
/** finished jobs the dashboard keeps: its default unless --keep */
const KEPT = KEEP ?? 2000;
const log = (line) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

if (!args.includes('--no-build')) {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

const demo = spawn(process.execPath, ['server/main.js'], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(PORT), DEMO_JOB_SECONDS: '15', DEMO_START_EVERY_SECONDS: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = `http://127.0.0.1:${PORT}`;
const stopDemo = () => demo.exitCode === null && demo.kill('SIGTERM');
process.on('exit', stopDemo);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

async function waitForDashboard() {
  for (let tries = 0; tries < 100; tries++) {
    const ok = await fetch(`${base}/sources.json`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the demo did not start');
}

/** established TCP connections from the browser to the demo platforms' ports (PORT+1 … PORT+5) */
function connectionsByPort() {
  const counts = {};
  try {
    const out = execFileSync('ss', ['-Htn', 'state', 'established'], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const peer = line.trim().split(/\s+/)[3];
      const port = Number(peer?.split(':').pop());
      if (port > PORT && port <= PORT + 5) counts[port] = (counts[port] ?? 0) + 1;
    }
  } catch {
    // no ss here: connections are left out
  }
  return counts;
}

await waitForDashboard();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
if (KEEP !== undefined) {
  // the operator's setting on the Sources page, made before the app reads it
  await page.addInitScript((keep) => localStorage.setItem('genwatch.history.maxFinishedJobs', String(keep)), KEEP);
}
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
await page.goto(`${base}/`);

/**
 * The feed worker's heap after a GC, over the browser's DevTools session (Playwright has no
 * handle on a shared worker); undefined while there is none.
 */
const browserCdp = await browser.newBrowserCDPSession();
let workerSession;
let nextCall = 1;
const workerCalls = new Map();
browserCdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => {
  const parsed = JSON.parse(message);
  if (sessionId === workerSession && parsed.id !== undefined) workerCalls.get(parsed.id)?.(parsed.result);
});
function callWorker(method) {
  return new Promise((resolve) => {
    const id = nextCall++;
    workerCalls.set(id, resolve);
    browserCdp.send('Target.sendMessageToTarget', { sessionId: workerSession, message: JSON.stringify({ id, method }) }).catch(() => resolve(undefined));
  });
}
async function workerHeapMB() {
  if (!workerSession) {
    const { targetInfos } = await browserCdp.send('Target.getTargets');
    const worker = targetInfos.find((target) => target.type === 'shared_worker' && target.title === 'genwatch-feeds');
    if (!worker) return undefined;
    workerSession = (await browserCdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false })).sessionId;
  }
  await callWorker('HeapProfiler.collectGarbage');
  const usage = await callWorker('Runtime.getHeapUsage');
  return usage ? Math.round((usage.usedSize / 1024 / 1024) * 10) / 10 : undefined;
}

async function sample(startedAt) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const workerMB = await workerHeapMB();
  const { nodes, jsEventListeners } = await cdp.send('Memory.getDOMCounters');
  const jobs = await page.evaluate(() => document.querySelectorAll('tr.row').length).catch(() => undefined);
  const connections = connectionsByPort();
  return {
    minute: Math.round(((Date.now() - startedAt) / 60_000) * 10) / 10,
    heapMB: Math.round((usedSize / 1024 / 1024) * 10) / 10,
    workerHeapMB: workerMB,
    listeners: jsEventListeners,
    nodes,
    rowsRendered: jobs,
    connections: Object.values(connections).reduce((sum, count) => sum + count, 0),
    maxPerOrigin: Math.max(0, ...Object.values(connections)),
  };
}

const startedAt = Date.now();
const samples = [];
try {
  while (Date.now() - startedAt < MINUTES * 60_000) {
    const figures = await sample(startedAt);
    samples.push(figures);
    log(JSON.stringify(figures));
    await new Promise((resolve) => setTimeout(resolve, EVERY_S * 1000));
  }
  samples.push(await sample(startedAt));
} finally {
  await browser.close();
  stopDemo();
}

const first = samples[0];
// settled: the kept history is full (finished jobs arrive at one a second, after 15 s)
const fullAtMinute = (KEPT + 15) / 60;
const settled = samples.find((entry) => entry.minute >= Math.min(fullAtMinute, MINUTES / 2)) ?? first;
const last = samples.at(-1);
const result = {
  measuredAt: new Date().toISOString(),
  minutes: MINUTES,
  everySeconds: EVERY_S,
  finishedJobsKept: KEPT,
  demo: { jobSeconds: 15, startEverySeconds: 1 },
  samples,
};
writeFileSync(path.join(ROOT, 'bench/soak.json'), `${JSON.stringify(result, null, 2)}\n`);

const row = (label, entry) =>
  `| ${label} (${entry.minute} min) | ${entry.heapMB} | ${entry.workerHeapMB ?? '—'} | ${entry.listeners} | ${entry.nodes} | ${entry.connections} | ${entry.maxPerOrigin} |`;
const section = [
  '## Soak',
  '',
  `One board tab on the demo at a job a second (15 s jobs) for ${MINUTES} min, sampled every ${EVERY_S} s, ${result.finishedJobsKept} finished jobs kept (\`npm run soak\`, ${result.measuredAt.slice(0, 10)}).`,
  'Heaps are after a forced GC; the feed worker holds the feeds, so connections are the browser’s established TCP connections to the five demo platforms.',
  '',
  '| sample | tab JS heap (MB) | feed worker JS heap (MB) | event listeners | DOM nodes | connections | most to one origin (WebSockets included) |',
  '|---|---|---|---|---|---|---|',
  row('start', first),
  row('settled', settled),
  row('end', last),
  '',
  `Heap growth from settled to end: ${Math.round((last.heapMB - settled.heapMB) * 10) / 10} MB in the tab, ${
    last.workerHeapMB === undefined || settled.workerHeapMB === undefined ? '—' : Math.round((last.workerHeapMB - settled.workerHeapMB) * 10) / 10
  } MB in the feed worker; listeners: ${last.listeners - settled.listeners}.`,
  '',
].join('\n');
const resultsPath = path.join(ROOT, 'bench/results.md');
const results = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
const kept = results.replace(/\n## Soak\n[\s\S]*?(?=\n## |$)/, '\n').trimEnd();
writeFileSync(resultsPath, `${kept}\n\n${section}`);
log(`wrote bench/soak.json and the Soak section of bench/results.md`);
