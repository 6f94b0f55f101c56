import type { JobEvent } from '../model/events';
import { jobKey } from '../model/job';
import type { Dialect, JobRef, StreamRequest } from '../protocols/dialect';
import { DEFAULT_MAX_STREAMS, originOf, type Source } from '../protocols/source';
import { DEFAULT_FEED_SETTINGS, type FeedSettings } from './feedSettings';
import { JobFeed } from './jobFeed';

/**
 * Owns every job feed and shares out stream slots. Browsers give an HTTP/1.1 origin six
 * connections across all tabs, so each origin gets at most `maxStreams` streams (default 4)
 * and the rest of its jobs are polled. The job in front of the operator gets a stream first,
 * then the newest jobs; a stream is not taken from a job for anything but the focused one.
 */
export class FeedManager {
  private readonly feeds = new Map<string, JobFeed>();
  private readonly priority = new Map<string, number>();
  private nextPriority = 0;
  /** the jobs open in front of the operator: one, or one per tab where the browser's tabs share the feeds */
  private focused: ReadonlySet<string> = new Set();
  private visible: ReadonlySet<string> = new Set();
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly emit: (events: JobEvent[]) => void,
    private readonly settings: FeedSettings = DEFAULT_FEED_SETTINGS,
  ) {}

  /** every feed, for the health view */
  all(): JobFeed[] {
    return [...this.feeds.values()];
  }

  /** Jobs on screen on the board: after the focused job, they get streams first. */
  setVisible(keys: ReadonlySet<string>): void {
    this.visible = keys;
    for (const origin of new Set([...this.feeds.values()].map((feed) => originOf(feed.source)))) this.rebalance(origin);
  }

  /** Everything waiting out a backoff or a poll interval tries now (back online, page visible again). */
  wakeAll(): void {
    for (const feed of this.feeds.values()) feed.wake();
  }

  /** Feeds that fell back to polling try their stream again once `streamRetryMs` has passed. */
  private tick(): void {
    const due = Date.now() - (this.settings.streamRetryMs ?? 30_000);
    for (const feed of this.feeds.values()) {
      if (feed.active && feed.streamFailed && (feed.mode === 'poll' || feed.mode === 'queued') && feed.streamFailedAt <= due) {
        const origin = originOf(feed.source);
        const streaming = [...this.feeds.values()].filter((other) => other.mode === 'stream' && originOf(other.source) === origin).length;
        if (streaming < (feed.source.maxStreams ?? DEFAULT_MAX_STREAMS)) feed.probeStream();
        else feed.postponeProbe();
      }
    }
  }

  get size(): number {
    return this.feeds.size;
  }

  feed(key: string): JobFeed | undefined {
    return this.feeds.get(key);
  }

  /**
   * Start keeping a job current (no-op when a live feed exists). `renew` replaces a halted
   * one; `pinnedStream` is a stream that is the job itself and is opened at once.
   */
  watch(
    source: Source,
    dialect: Dialect,
    ref: JobRef,
    {
      renew = false,
      pinnedStream,
      seen,
      identify = false,
    }: { renew?: boolean; pinnedStream?: StreamRequest; seen?: readonly string[]; identify?: boolean } = {},
  ): JobFeed {
    const existing = this.feeds.get(jobKey(source.id, ref.jobId));
    if (existing && (existing.active || !renew)) return existing;
    existing?.stop();
    const feed = new JobFeed({
      source,
      dialect,
      ref,
      emit: this.emit,
      onModeChange: (changed) => this.onModeChange(changed),
      settings: this.settings,
      pinnedStream,
      // a renewed feed asks again: the first may have stopped on the very token now replaced
      identify: identify || !!existing?.unidentified,
    });
    if (seen?.length) feed.seed(seen);
    this.feeds.set(feed.key, feed);
    this.priority.set(feed.key, this.nextPriority++);
    if (!this.ticker) {
      this.ticker = setInterval(() => this.tick(), Math.min(5000, this.settings.streamRetryMs ?? 30_000));
      (this.ticker as { unref?: () => void }).unref?.();
    }
    this.rebalance(originOf(source));
    // streamed or polled once the platform said what the id is
    if (feed.identifying) void feed.identify().then(() => this.rebalance(originOf(source)));
    return feed;
  }

  focus(keys: ReadonlySet<string>): void {
    const before = this.focused;
    this.focused = keys;
    const origins = new Set<string>();
    for (const key of [...before, ...keys]) {
      const feed = this.feeds.get(key);
      if (feed) origins.add(originOf(feed.source));
    }
    for (const origin of origins) this.rebalance(origin);
  }

  forget(key: string): void {
    const feed = this.feeds.get(key);
    if (!feed) return;
    feed.stop();
    this.feeds.delete(key);
    this.priority.delete(key);
    this.rebalance(originOf(feed.source));
  }

  stopAll(): void {
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** streams held per origin, for the health view */
  streamsByOrigin(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const feed of this.feeds.values()) {
      if (feed.mode !== 'stream') continue;
      const origin = originOf(feed.source);
      counts.set(origin, (counts.get(origin) ?? 0) + 1);
    }
    return counts;
  }

  private onModeChange(feed: JobFeed): void {
    // A halted feed stays, so the job page can show why and offer a retry.
    if (feed.done) {
      this.feeds.delete(feed.key);
      this.priority.delete(feed.key);
    }
    this.rebalance(originOf(feed.source));
  }

  /** 2: the job page in front of the operator; 1: on screen on the board; 0: the rest */
  private tier(feed: JobFeed): number {
    if (this.focused.has(feed.key)) return 2;
    return this.visible.has(feed.key) ? 1 : 0;
  }

  /** higher first: tier, then the newest */
  private rank(feed: JobFeed): number {
    return this.tier(feed) * 1e12 + (this.priority.get(feed.key) ?? 0);
  }

  private rebalance(origin: string): void {
    const sameOrigin = [...this.feeds.values()].filter((feed) => feed.active && !feed.identifying && originOf(feed.source) === origin);
    if (sameOrigin.length === 0) return;
    // a status endpoint found broken for the deployment: its pollers wait for streams instead
    for (const feed of sameOrigin) feed.requeue();
    for (const feed of sameOrigin) if (feed.pinned) feed.stream();
    const pinned = sameOrigin.filter((feed) => feed.pinned).length;
    const slots = Math.max(0, (sameOrigin[0].source.maxStreams ?? DEFAULT_MAX_STREAMS) - pinned);
    const contenders = sameOrigin.filter((feed) => !feed.streamFailed && !feed.pinned).sort((a, b) => this.rank(b) - this.rank(a));
    const streaming = contenders.filter((feed) => feed.mode === 'stream');
    // A stream moves only to a job of a higher tier, so equal jobs do not trade it back and forth.
    for (const wanting of contenders) {
      if (wanting.mode === 'stream' || streaming.length < slots) continue;
      const weakest = streaming.at(-1);
      if (!weakest || this.tier(weakest) >= this.tier(wanting)) break;
      weakest.poll();
      streaming.pop();
      streaming.push(wanting);
      wanting.stream();
      streaming.sort((a, b) => this.rank(b) - this.rank(a));
    }
    let free = slots - contenders.filter((feed) => feed.mode === 'stream').length;
    for (const feed of contenders) {
      if (feed.mode === 'stream') continue;
      if (free > 0) {
        feed.stream();
        free--;
      } else {
        feed.poll();
      }
    }
    for (const feed of sameOrigin) if (feed.streamFailed && feed.mode === 'idle') feed.poll();
  }
}
