/** What a benchmark scenario records in the page: frames, long tasks, and message-to-paint. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Math.max without spreading (a spread of 150,000 values overflows the stack) */
export function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export function nextFrame(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

export async function frames(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await nextFrame();
}

/** `count` frames, or `ms` when frames are that slow (the naive charts take seconds a frame) */
export async function framesWithin(count: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  for (let i = 0; i < count && performance.now() < deadline; i++) await Promise.race([nextFrame(), sleep(Math.max(0, deadline - performance.now()))]);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A task of its own, without the 4 ms clamp of nested timers. */
export function yieldTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(undefined);
  });
}

/**
 * Frame intervals from requestAnimationFrame deltas, long tasks (`longtask`) and long animation
 * frames (`long-animation-frame`) from PerformanceObserver, between start() and stop().
 */
export class FrameRecorder {
  readonly intervals: number[] = [];
  readonly longTasks: number[] = [];
  readonly longFrames: number[] = [];
  private running = false;
  private last = 0;
  private observers: PerformanceObserver[] = [];
  /** called once per frame with its timestamp, for per-frame accounting */
  onFrame?: (time: number) => void;

  start(): void {
    this.running = true;
    this.last = 0;
    const loop = (time: number) => {
      if (!this.running) return;
      if (this.last) this.intervals.push(time - this.last);
      this.last = time;
      this.onFrame?.(time);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    for (const [type, into] of [
      ['longtask', this.longTasks],
      ['long-animation-frame', this.longFrames],
    ] as const) {
      if (!PerformanceObserver.supportedEntryTypes.includes(type)) continue;
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) into.push(entry.duration);
      });
      observer.observe({ type, buffered: false });
      this.observers.push(observer);
    }
  }

  stop() {
    this.running = false;
    for (const observer of this.observers) {
      for (const entry of observer.takeRecords()) (entry.entryType === 'longtask' ? this.longTasks : this.longFrames).push(entry.duration);
      observer.disconnect();
    }
    return {
      frames: this.intervals.length,
      frameP50: round(percentile(this.intervals, 50)),
      frameP95: round(percentile(this.intervals, 95)),
      frameMax: round(maxOf(this.intervals)),
      // a frame the page missed shows as an interval of two (33 ms); jitter of the frame clock does not
      framesMissedPercent: round((100 * this.intervals.filter((interval) => interval > 25).length) / Math.max(1, this.intervals.length), 2),
      longTasks: this.longTasks.length,
      longTaskMax: round(maxOf(this.longTasks)),
      longFrames: this.longFrames.length,
      longFrameMax: round(maxOf(this.longFrames)),
    };
  }
}

/**
 * Message-to-paint: each message's platform timestamp against the first requestAnimationFrame
 * callback after the DOM update that applied it (that callback runs after the frame painted).
 * Messages are applied in the order they were ingested, so `applied` counts off the oldest.
 */
export class PaintLatency {
  readonly latencies: number[] = [];
  private sentAt: number[] = [];
  private head = 0;
  private painted = 0;

  sent(platformTime: number): void {
    this.sentAt.push(platformTime);
  }

  /** after a DOM update: `applied` of the messages sent so far are on screen */
  domUpdated(applied: number): void {
    const from = this.head;
    const to = Math.min(applied, this.sentAt.length);
    if (to <= from) return;
    this.head = to;
    requestAnimationFrame(() => {
      const now = performance.timeOrigin + performance.now();
      for (let i = from; i < to; i++) this.latencies.push(now - this.sentAt[i]);
      this.painted = Math.max(this.painted, to);
    });
  }

  get count(): number {
    return this.sentAt.length;
  }

  get paintedCount(): number {
    return this.painted;
  }

  summary() {
    return { p50: round(percentile(this.latencies, 50)), p95: round(percentile(this.latencies, 95)), max: round(maxOf(this.latencies)) };
  }
}

/** Chart.js work per frame (update and draw), summed by a plugin every chart in the page uses. */
export class ChartWork {
  private current = 0;
  readonly perFrame: number[] = [];
  private startedAt = new WeakMap<object, number>();

  readonly plugin = {
    id: 'benchChartWork',
    beforeUpdate: (chart: object) => void this.startedAt.set(chart, performance.now()),
    afterUpdate: (chart: object) => this.add(chart),
    beforeDraw: (chart: object) => void this.startedAt.set(chart, performance.now()),
    afterDraw: (chart: object) => this.add(chart),
  };

  private add(chart: object): void {
    const started = this.startedAt.get(chart);
    if (started !== undefined) this.current += performance.now() - started;
    this.startedAt.delete(chart);
  }

  /** closes the frame's account; frames without chart work are not counted */
  frame(): void {
    if (this.current > 0) this.perFrame.push(this.current);
    this.current = 0;
  }

  summary() {
    return {
      framesWithWork: this.perFrame.length,
      p50: round(percentile(this.perFrame, 50), 2),
      p95: round(percentile(this.perFrame, 95), 2),
      max: round(maxOf(this.perFrame), 2),
    };
  }
}
