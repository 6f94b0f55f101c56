import type { JobEvent } from '../model/events';
import { isTerminal, jobKey, type LinkState, type Transport } from '../model/job';
import type { Dialect, WireContext } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import type { TransportError } from '../transports/http';
import { Poller, type PollSignal } from '../transports/poll';
import { SseConnection, type SseSignal } from '../transports/sse';

export interface FeedOptions {
  /** @default 1000 */
  retryBaseMs: number;
  /** @default 30000 */
  retryMaxMs: number;
  /** failed reconnects before falling back to polling (the CodeBegen guide: 3) @default 3 */
  maxReconnects: number;
  /** @default 2000 */
  pollIntervalMs: number;
  fetch?: typeof fetch;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = {
  retryBaseMs: 1000,
  retryMaxMs: 30_000,
  maxReconnects: 3,
  pollIntervalMs: 2000,
};

/** What the feed is doing now: 'queued' waits for a stream slot where a platform cannot be polled. */
export type FeedMode = 'stream' | 'poll' | 'queued' | 'idle';

/** 401, 403 and 404 will not pass by asking again: the operator has to act. */
const OPERATOR_MUST_ACT = new Set([401, 403, 404]);

/**
 * Keeps one job current: streams it when given a slot, polls it otherwise, falls back from a
 * failing stream to polling, and stops once the job has finished. Emits normalized JobEvents,
 * including `link` events that tell the operator which transport carries the job and how it is.
 */
export class JobFeed {
  mode: FeedMode = 'idle';
  /** the stream failed past its reconnect budget; the feed stays on polling */
  streamFailed = false;
  /** the job finished: nothing more to fetch */
  done = false;
  /** stopped on an error only the operator can fix (a rejected token, a missing job) */
  halted = false;
  private sse: SseConnection | undefined;
  private poller: Poller | undefined;
  private lastEventId = '';
  private lastLink = '';
  private lastHeartbeatAt = 0;
  readonly key: string;

  constructor(
    readonly source: Source,
    readonly dialect: Dialect,
    readonly jobId: string,
    private readonly emit: (events: JobEvent[]) => void,
    private readonly onModeChange: (feed: JobFeed) => void,
    private readonly options: FeedOptions = DEFAULT_FEED_OPTIONS,
  ) {
    this.key = jobKey(source.id, jobId);
  }

  get active(): boolean {
    return !this.done && !this.halted;
  }

  get canPoll(): boolean {
    return typeof this.dialect.statusUrl === 'function' && typeof this.dialect.parseStatus === 'function';
  }

  stream(): void {
    if (!this.active || this.mode === 'stream') return;
    this.stopTransports();
    this.mode = 'stream';
    const request = this.dialect.streamRequest(this.source, this.jobId);
    this.link('sse', 'connecting');
    this.sse = new SseConnection({
      ...request,
      headers: () => this.dialect.authHeaders(this.source),
      lastEventId: this.lastEventId,
      retryBaseMs: this.options.retryBaseMs,
      retryMaxMs: this.options.retryMaxMs,
      maxReconnects: this.options.maxReconnects,
      fetch: this.options.fetch,
      onSignal: (signal) => this.onSse(signal),
    }).start();
  }

  /** Poll where the platform allows it; otherwise wait for a stream slot. */
  poll(why?: string): void {
    if (!this.active || this.mode === 'poll' || this.mode === 'queued') return;
    this.stopTransports();
    if (!this.canPoll) {
      this.mode = 'queued';
      this.link('none', 'idle', 'Waiting for a free stream slot');
      return;
    }
    this.mode = 'poll';
    this.link('polling', 'polling', why ?? `Polling every ${this.options.pollIntervalMs / 1000} s (stream slots in use)`);
    this.poller = new Poller({
      url: this.dialect.statusUrl!(this.source, this.jobId),
      headers: () => this.dialect.authHeaders(this.source),
      intervalMs: this.options.pollIntervalMs,
      fetch: this.options.fetch,
      onSignal: (signal) => this.onPoll(signal),
    }).start();
  }

  stop(): void {
    this.stopTransports();
    this.mode = 'idle';
  }

  private stopTransports(): void {
    this.sse?.close();
    this.sse = undefined;
    this.poller?.stop();
    this.poller = undefined;
  }

  private context(receivedAt: number): WireContext {
    return { source: this.source, jobId: this.jobId, receivedAt };
  }

  private deliver(events: JobEvent[]): void {
    if (events.length === 0) return;
    this.emit(events);
    const finished = events.some((event) => event.kind === 'update' && event.update.status && isTerminal(event.update.status));
    if (finished) {
      this.done = true;
      this.stop();
      this.link('none', 'closed', 'Job finished');
      this.onModeChange(this);
    }
  }

  private onSse(signal: SseSignal): void {
    switch (signal.type) {
      case 'open':
        this.link('sse', 'live');
        return;
      case 'message':
        this.lastEventId = signal.lastEventId;
        this.deliver(this.dialect.parseStreamMessage(this.context(signal.at), signal));
        return;
      case 'comment':
        this.heartbeat(signal.at);
        return;
      case 'retrying':
        this.link('sse', 'reconnecting', `${signal.error.message}; reconnect ${signal.attempt} in ${(signal.delayMs / 1000).toFixed(1)} s`, { reconnect: true });
        return;
      case 'closed':
        if (signal.reason === 'aborted' || !this.active) return;
        this.sse = undefined;
        this.mode = 'idle';
        if (signal.reason === 'fatal' && signal.error && this.mustOperatorAct(signal.error)) return;
        this.streamFailed = true;
        if (this.canPoll) {
          const why = signal.reason === 'gave-up'
            ? `Stream failed ${this.options.maxReconnects} reconnects (${signal.error?.message ?? 'no reason'}): polling every ${this.options.pollIntervalMs / 1000} s`
            : `Stream unusable (${signal.error?.message ?? 'ended early'}): polling every ${this.options.pollIntervalMs / 1000} s`;
          this.poll(why);
        } else {
          this.halt(signal.error?.message ?? 'The stream ended before the job finished');
        }
        this.onModeChange(this);
        return;
      default:
        return;
    }
  }

  private onPoll(signal: PollSignal): void {
    if (!this.active) return;
    switch (signal.type) {
      case 'response':
        if (!this.lastLink.startsWith('polling|polling|')) this.link('polling', 'polling', 'Polling recovered');
        this.deliver(this.dialect.parseStatus!(this.context(signal.at), signal.body));
        return;
      case 'failed':
        this.link('polling', 'reconnecting', `${signal.error.message} (${signal.consecutive} in a row)`);
        return;
      case 'closed':
        if (signal.reason === 'stopped') return;
        this.poller = undefined;
        this.mode = 'idle';
        if (signal.error && this.mustOperatorAct(signal.error)) return;
        this.halt(`Polling stopped: ${signal.error?.message ?? 'unknown error'}`);
        this.onModeChange(this);
        return;
    }
  }

  private mustOperatorAct(error: TransportError): boolean {
    if (error.status === undefined || !OPERATOR_MUST_ACT.has(error.status)) return false;
    this.halt(error.message);
    this.onModeChange(this);
    return true;
  }

  private halt(detail: string): void {
    this.halted = true;
    this.stop();
    this.link('none', 'error', detail, { fatal: true });
  }

  /** at most one heartbeat event a second: enough for staleness, cheap under chatty pings */
  private heartbeat(at: number): void {
    if (at - this.lastHeartbeatAt < 1000) return;
    this.lastHeartbeatAt = at;
    this.emit([{ key: this.key, sourceId: this.source.id, jobId: this.jobId, platform: this.dialect.kind, at, receivedAt: at, kind: 'heartbeat' }]);
  }

  private link(transport: Transport, link: LinkState, detail?: string, extra: { reconnect?: boolean; fatal?: boolean } = {}): void {
    const signature = `${transport}|${link}|${detail ?? ''}`;
    if (signature === this.lastLink && !extra.reconnect) return;
    this.lastLink = signature;
    const now = Date.now();
    this.emit([{
      key: this.key,
      sourceId: this.source.id,
      jobId: this.jobId,
      platform: this.dialect.kind,
      at: now,
      receivedAt: now,
      kind: 'link',
      transport,
      link,
      detail,
      ...extra,
    }]);
  }
}
