/** The in-page scenarios of `npm run bench`, the same code for genwatch and for the naive baseline. */
import { ChartWork, FrameRecorder, PaintLatency, frames, framesWithin, nextFrame, percentile, round, sleep, yieldTask } from './measure';
import { CodebegenLoad, imagegenStep, type BenchMessage } from './load';
import type { Subject } from './subject';

async function settle(subject: Subject, timeoutMs = 20_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (subject.backlog() > 0) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  await frames(2);
  return true;
}

async function boardWith(subject: Subject, jobs: number): Promise<CodebegenLoad> {
  await subject.mountBoard();
  const load = new CodebegenLoad(jobs);
  const opening = load.opening();
  for (let i = 0; i < opening.length; i += 500) {
    subject.ingest('codebegen', opening.slice(i, i + 500));
    await settle(subject, 120_000);
  }
  await frames(10);
  return load;
}

/** Counts each message in the latency account as it is ingested and as it is painted. */
function instrument(subject: Subject, latency: PaintLatency) {
  let ingested = 0;
  subject.onDomUpdate(() => latency.domUpdated(ingested - subject.backlog()));
  return (messages: readonly BenchMessage[]) => {
    for (const message of messages) latency.sent(message.at);
    ingested += messages.length;
    subject.ingest('codebegen', messages);
  };
}

/**
 * Messages at `rate` per second for `seconds`, sent every few milliseconds in catch-up batches
 * (a slow page gets bigger batches, as a real socket would hand it).
 */
async function offer(send: (messages: BenchMessage[]) => void, load: CodebegenLoad, rate: number, seconds: number): Promise<number> {
  const startedAt = performance.now();
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - startedAt;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((elapsed / 1000) * rate) - sent;
    if (due > 0) {
      send(load.next(due));
      sent += due;
    }
    await sleep(5);
  }
  return sent;
}

export async function ingest(subject: Subject, { jobs = 1000, rate = 5000, seconds = 30 } = {}) {
  const load = await boardWith(subject, jobs);
  const latency = new PaintLatency();
  const send = instrument(subject, latency);
  const recorder = new FrameRecorder();
  recorder.start();
  const startedAt = performance.now();
  const sent = await offer(send, load, rate, seconds);
  const caughtUp = await settle(subject);
  await sleep(100);
  const elapsed = (performance.now() - startedAt) / 1000;
  return {
    ...recorder.stop(),
    messageToPaint: latency.summary(),
    sent,
    painted: latency.paintedCount,
    caughtUp,
    eventsPerSecond: round(sent / elapsed, 0),
    domRows: subject.domRows(),
  };
}

/**
 * The highest offered rate the page keeps up with: steps up a ladder of rates, each for a few
 * seconds, and stops at the first where message-to-paint p95 exceeds 250 ms or fewer than 95%
 * of the messages were painted within a second after the step.
 */
export async function sustainable(
  subject: Subject,
  { jobs = 1000, stepSeconds = 3, ladder = [1000, 1500, 2500, 4000, 6000, 10_000, 15_000, 25_000, 40_000, 60_000, 100_000, 150_000, 250_000] } = {},
) {
  const load = await boardWith(subject, jobs);
  const steps: { rate: number; p95: number; paintedShare: number; ok: boolean }[] = [];
  let sustained = 0;
  for (const rate of ladder) {
    const latency = new PaintLatency();
    const send = instrument(subject, latency);
    await offer(send, load, rate, stepSeconds);
    await sleep(1000);
    const p95 = percentile(latency.latencies, 95);
    const paintedShare = latency.paintedCount / Math.max(1, latency.count);
    const ok = p95 <= 250 && paintedShare >= 0.95;
    steps.push({ rate, p95: round(p95), paintedShare: round(paintedShare, 3), ok });
    if (!ok) break;
    sustained = rate;
    // the next step starts from an empty queue
    await settle(subject, 60_000);
    subject.onDomUpdate(() => {});
  }
  return { eventsPerSecond: sustained, steps };
}

/** 20,000 events at once, as a reconnect replay hands them over: 64 KB network reads, back to back. */
export async function burst(subject: Subject, { jobs = 1000, events = 20_000, perRead = 220 } = {}) {
  const load = await boardWith(subject, jobs);
  const messages = load.next(events);
  const latency = new PaintLatency();
  const send = instrument(subject, latency);
  const recorder = new FrameRecorder();
  recorder.start();
  const startedAt = performance.now();
  for (let i = 0; i < messages.length; i += perRead) {
    send(messages.slice(i, i + perRead));
    await yieldTask();
  }
  const deadline = startedAt + 120_000;
  while (latency.paintedCount < messages.length && performance.now() < deadline) await nextFrame();
  const currentAfterMs = round(performance.now() - startedAt, 0);
  await sleep(200);
  return { ...recorder.stop(), currentAfterMs, painted: latency.paintedCount, events };
}

/** Feeds `count` more events as fast as the page applies them (the runner measures the heap between steps). */
export async function memoryStep(subject: Subject, load: CodebegenLoad, count: number, timeoutMs: number) {
  const startedAt = performance.now();
  let sent = 0;
  while (sent < count) {
    if (performance.now() - startedAt > timeoutMs) break;
    const batch = Math.min(2500, count - sent);
    subject.ingest('codebegen', load.next(batch));
    sent += batch;
    // the page's pace: a backlog is drained before the next read
    while (subject.backlog() > 5000) await sleep(5);
    await yieldTask();
  }
  const settled = await settle(subject, Math.max(1000, timeoutMs - (performance.now() - startedAt)));
  return { sent, settled, seconds: round((performance.now() - startedAt) / 1000, 1) };
}

export async function memorySetup(subject: Subject, jobs = 1000) {
  return boardWith(subject, jobs);
}

/** 5,000 rows, 1% of them changing each second, while the board scrolls a few pixels per frame. */
export async function board(subject: Subject, { jobs = 5000, seconds = 15, changePerSecond = 0.01 } = {}) {
  const load = await boardWith(subject, jobs);
  const scroller = subject.boardScroller();
  const recorder = new FrameRecorder();
  let maxRows = 0;
  let direction = 1;
  recorder.onFrame = () => {
    const bottom = scroller.scrollHeight - scroller.clientHeight;
    if (scroller.scrollTop >= bottom - 1) direction = -1;
    else if (scroller.scrollTop <= 0) direction = 1;
    scroller.scrollTop += 24 * direction;
    maxRows = Math.max(maxRows, subject.domRows());
  };
  recorder.start();
  const perTick = Math.max(1, Math.round((jobs * changePerSecond) / 10));
  const startedAt = performance.now();
  while (performance.now() - startedAt < seconds * 1000) {
    subject.ingest('codebegen', load.random(perTick));
    await sleep(100);
  }
  return { ...recorder.stop(), domRowsMax: maxRows, changesPerSecond: perTick * 10 };
}

/** 12 step charts of 10,000 points each, one new point per chart at 10 Hz. */
export async function charts(subject: Subject, work: ChartWork, { count = 12, points = 10_000, hz = 10, seconds = 10 } = {}) {
  const taskIds = Array.from({ length: count }, (_, index) => `img_bench_${index}`);
  const total = points + hz * seconds + 10;
  // the history arrives before the charts are on screen, as for a job opened mid-run
  for (const taskId of taskIds) {
    for (let step = 1; step <= points; step += 1000) {
      subject.ingest(
        'imagegen',
        Array.from({ length: Math.min(1000, points - step + 1) }, (_, i) => imagegenStep(taskId, step + i, total)),
      );
      await yieldTask();
    }
  }
  await settle(subject, 120_000);
  await subject.mountCharts(taskIds);
  await framesWithin(30, 2000);
  const recorder = new FrameRecorder();
  recorder.onFrame = () => work.frame();
  work.frame();
  work.perFrame.length = 0;
  recorder.start();
  let step = points;
  const startedAt = performance.now();
  while (performance.now() - startedAt < seconds * 1000) {
    step++;
    for (const taskId of taskIds) subject.ingest('imagegen', [imagegenStep(taskId, step, total)]);
    await sleep(1000 / hz);
  }
  await framesWithin(5, 1000);
  return { ...recorder.stop(), chartWork: work.summary(), pointsPerChart: step };
}
