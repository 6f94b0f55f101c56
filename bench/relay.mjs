// The relay scenario of npm run bench: 1,000 jobs at 5,000 events/s published to NATS
// JetStream (as the relays following the platforms publish them), two relays serving 50
// simulated dashboards (SSE clients) and one real one in Chromium, one relay killed
// mid-run. Measures publish-to-viewer latency, what each viewer parses against direct mode
// (every event of every job), the serving relay's CPU and memory, and what a kill loses.
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { startAppServer } from '../server/app-server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'bench-relay-token-0123456789abcdef';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** a child process, resolved once a line of its output matches */
function spawnUntil(command, args, pattern, env = {}) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) resolve({ child, match });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${output}`)));
  });
}

/**
 * What a dashboard page costs its browser: main-thread task time as a share of the wall time
 * `during` took, and the JS heap after a forced GC at the end (Chrome DevTools Protocol).
 */
async function browserCost(page, during) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((metric) => [metric.name, metric.value]));
  const before = await metrics();
  const started = Date.now();
  const result = await during();
  const after = await metrics();
  const seconds = (Date.now() - started) / 1000;
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await metrics()).JSHeapUsedSize / 2 ** 20;
  return { result, busyPercent: Number((((after.TaskDuration - before.TaskDuration) / seconds) * 100).toFixed(1)), heapMb: Number(heap.toFixed(1)) };
}

/** stops a child process and waits until it has exited */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds used by a process so far (user + system), from /proc */
async function cpuSeconds(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

const percentile = (values, p) => {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

export async function relayScenario({ log, browser, benchUrl, seconds = 30, jobs = 1000, rate = 5000, viewers = 50 }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'genwatch-bench-relay-'));
  const closers = [];
  try {
    const natsPort = await freePort();
    const nats = await spawnUntil('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', path.join(dir, 'nats')], /Server is ready/);
    closers.push(() => stopChild(nats.child));
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    const sourcesFile = path.join(dir, 'sources.json');
    await writeFile(sourcesFile, '[]');

    const relayConfig = { url: '', token: TOKEN };
    const app = await startAppServer({ root: path.join(ROOT, 'dist'), sources: async () => '[]', relay: relayConfig });
    closers.push(() => app.close());
    const startRelay = async (id) => {
      const { child, match } = await spawnUntil(
        process.execPath,
        ['dist-relay/main.js', '--sources', sourcesFile, '--nats', natsUrl, '--port', '0', '--relay-id', id, '--allow-origin', app.url],
        /is running: (http:\/\/[\d.:]+)/,
        { RELAY_TOKEN: TOKEN },
      );
      closers.push(() => stopChild(child));
      return { child, url: match[1] };
    };
    const doomed = await startRelay('bench-relay-doomed');
    const serving = await startRelay('bench-relay-serving');
    relayConfig.url = serving.url;

    const keys = Array.from({ length: jobs }, (_, i) => `bench/job-${i}`);
    const perViewer = Math.floor(jobs / viewers);
    const plan = Array.from({ length: viewers }, (_, v) => {
      const visible = keys.slice(v * perViewer, v * perViewer + 20);
      // half start on the relay that will be killed, and resume on the other
      return { urls: v % 2 ? [serving.url] : [doomed.url, serving.url], interest: { open: [visible[0]], visible } };
    });
    const viewerProcess = fork(path.join(import.meta.dirname, 'relay-viewers.mjs'), { env: { ...process.env, RELAY_TOKEN: TOKEN } });
    closers.push(() => viewerProcess.kill('SIGTERM'));
    const ask = (message, answer) =>
      new Promise((resolve) => {
        const onMessage = (reply) => {
          if (reply.type !== answer) return;
          viewerProcess.off('message', onMessage);
          resolve(reply);
        };
        viewerProcess.on('message', onMessage);
        viewerProcess.send(message);
      });
    await ask({ type: 'start', viewers: plan }, 'started');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    closers.push(() => page.close());
    await page.goto(app.url);

    const nc = await connect({ servers: natsUrl });
    closers.push(() => nc.close());
    const js = jetstream(nc);
    /** per viewer, the sequences JetStream acknowledged for its open job */
    const acked = plan.map(() => []);
    const openOf = new Map(plan.map((_, v) => [keys[v * perViewer], v]));
    let published = 0;
    let failed = 0;
    const publishing = await browserCost(page, async () => {
      const cpuBefore = await cpuSeconds(serving.child.pid);
      const viewerCpuBefore = await cpuSeconds(viewerProcess.pid);
      const startedAt = Date.now();
      log(`relay: publishing ${rate.toLocaleString('en')} events/s over ${jobs.toLocaleString('en')} jobs for ${seconds} s to ${viewers} viewers`);
      let killed = false;
      const pending = [];
      while (Date.now() - startedAt < seconds * 1000) {
        const tickStart = Date.now();
        if (!killed && tickStart - startedAt > (seconds * 1000) / 2) {
          killed = true;
          log('relay: killing one relay mid-run');
          doomed.child.kill('SIGKILL');
        }
        for (let i = 0; i < rate / 100; i++) {
          const n = published++;
          const key = keys[n % jobs];
          const now = Date.now();
          const event = {
            key,
            sourceId: 'bench',
            jobId: key.slice(6),
            platform: 'codebegen',
            at: now,
            receivedAt: now,
            kind: 'update',
            update: { status: 'running', progress: Math.min(99, (n / jobs) % 100), stage: `stage ${Math.floor(n / jobs / 10)}`, message: 'x'.repeat(80) },
          };
          const ack = js.publish(`genwatch.events.bench.${key.slice(6)}`, JSON.stringify(event)).then(
            (answer) => {
              const viewer = openOf.get(key);
              if (viewer !== undefined) acked[viewer].push(answer.seq);
            },
            () => failed++,
          );
          pending.push(ack);
        }
        if (pending.length > 20_000) await Promise.all(pending.splice(0));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (Date.now() - tickStart))));
      }
      await Promise.all(pending.splice(0));
      return { cpuBefore, viewerCpuBefore, startedAt };
    });
    const { cpuBefore, viewerCpuBefore, startedAt } = publishing.result;
    const elapsed = (Date.now() - startedAt) / 1000;
    const cpu = ((await cpuSeconds(serving.child.pid)) - cpuBefore) / elapsed;
    const rss = await rssMb(serving.child.pid);
    const metricsText = await (await fetch(`${serving.url}/metrics`)).text();
    const relayLag = Number(/^genwatch_relay_jetstream_lag_messages (\d+)/m.exec(metricsText)?.[1]);
    const viewerCpu = ((await cpuSeconds(viewerProcess.pid)) - viewerCpuBefore) / elapsed;
    // every viewer gets what was acknowledged for its open job, through the kill: waited for up to a minute
    const drainStarted = Date.now();
    for (;;) {
      const { seqs } = await ask({ type: 'newest' }, 'newest');
      const behind = seqs.filter((seq, v) => acked[v].length && seq < Math.max(...acked[v])).length;
      if (behind === 0 || Date.now() - drainStarted > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const drainSeconds = Number(((Date.now() - drainStarted) / 1000).toFixed(1));
    const { viewers: seen } = await ask({ type: 'stop' }, 'results');
    // what was acknowledged reached every viewer, through the kill
    let lost = 0;
    seen.forEach((viewer, v) => {
      const got = new Set(viewer.openSeqs);
      const missing = acked[v].filter((seq) => !got.has(seq));
      lost += missing.length;
      log(
        `viewer ${v}: ${missing.length} of ${acked[v].length} missing, seqs ${missing.slice(0, 3)}..${missing.at(-1)}, got ${got.size} from ${Math.min(...got)} to ${Math.max(...got)}; after reconnect ${viewer.afterReconnect}, error ${viewer.lastError}, last id ${viewer.lastEventId}`,
      );
    });
    const latencies = seen.flatMap((viewer) => viewer.latencies);
    const rowsOnBoard = await page.locator('tbody tr[data-job]').count();
    // today's direct mode for the same load: a dashboard that parses and applies every event itself
    log('relay: the same load in direct mode (the ingest page)');
    const directContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    closers.push(() => directContext.close());
    const directPage = await directContext.newPage();
    await directPage.goto(`${benchUrl}/index.html`);
    await directPage.waitForFunction(() => 'bench' in window);
    const direct = await browserCost(directPage, () =>
      directPage.evaluate((options) => window.bench.ingest(options), { jobs, rate: Math.round(published / elapsed), seconds }),
    );
    const received = seen.reduce((sum, viewer) => sum + viewer.received, 0);
    const figures = {
      jobs,
      viewers,
      seconds: Number(elapsed.toFixed(1)),
      publishedPerSecond: Math.round(published / elapsed),
      publishFailures: failed,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      eventsPerViewerPerSecond: Math.round(received / viewers / elapsed),
      directEventsPerViewerPerSecond: Math.round(published / elapsed),
      relayCpuPercent: Number((cpu * 100).toFixed(1)),
      relayRssMb: Number(rss.toFixed(1)),
      relayLagAtEnd: relayLag,
      drainSeconds,
      viewersCpuPercent: Number((viewerCpu * 100).toFixed(1)),
      reconnects: seen.reduce((sum, viewer) => sum + viewer.reconnects, 0),
      lostAcknowledged: lost,
      acknowledgedChecked: acked.reduce((sum, seqs) => sum + seqs.length, 0),
      browserRows: rowsOnBoard,
      browserBusyPercent: publishing.busyPercent,
      browserHeapMb: publishing.heapMb,
      directBrowserBusyPercent: direct.busyPercent,
      directBrowserHeapMb: direct.heapMb,
    };
    log(`relay: ${JSON.stringify(figures)}`);
    return { genwatch: figures };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    // cleaning up never fails the figures
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => undefined);
  }
}
