import type { JobEvent } from '../model/events';
import { isTerminal, jobKey, type LinkState, type Transport } from '../model/job';
import type { Dialect, JobRef, StreamRequest, WireContext } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import { isTransportError, requestJson, type TransportError } from '../transports/http';
import { Poller, type PollSignal } from '../transports/poll';
import { SseConnection, type SseSignal } from '../transports/sse';
import { WsConnection, type WsSignal } from '../transports/websocket';

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
  WebSocket?: typeof WebSocket;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = {
  retryBaseMs: 1000,
  retryMaxMs: 30_000,
  maxReconnects: 3,
  pollIntervalMs: 2000,
};

/** What the feed is doing now: 'queued' waits for a stream slot where a platform cannot be polled. */
export type FeedMode = 'stream' | 'poll' | 'queued' | 'idle';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  let settled = false;
  const promise = new Promise<void>((res, rej) => {
    resolve = () => {
      settled = true;
      res();
    };
    reject = (error) => {
      settled = true;
      rej(error);
    };
  });
  promise.catch(() => {}); // nobody may be waiting: not an unhandled rejection
  return { promise, resolve, reject, get settled() { return settled; } };
}

/** 401, 403 and 404 will not pass by asking again: the operator has to act. */
const OPERATOR_MUST_ACT = new Set([401, 403, 404]);

/**
 * Keeps one job current: streams it (SSE or WebSocket) when given a slot, polls it otherwise,
 * falls back from a failing stream to polling, and stops once the job has finished. Emits
 * normalized JobEvents, including `link` events that tell the operator which transport
 * carries the job and how it is.
 */
export class JobFeed {
  mode: FeedMode = 'idle';
  /** the stream failed past its reconnect budget; the feed stays on polling */
  streamFailed = false;
  /** the job finished: nothing more to fetch */
  done = false;
  /** stopped on an error only the operator can fix (a rejected token, a missing job) */
  halted = false;
  /** the stream is the job itself (a Takoss POST): always streamed, never re-requested */
  readonly pinned: boolean;
  private sse: SseConnection | undefined;
  private ws: WsConnection | undefined;
  private poller: Poller | undefined;
  private lastEventId = '';
  private lastLink = '';
  private lastHeartbeatAt = 0;
  private snapshotTaken = false;
  private readonly opened = deferred();
  private readonly updated = deferred();
  /** settles when the stream first opens, or fails when the feed halts before that */
  readonly whenOpen = this.opened.promise;
  /** settles with the first update from the platform */
  readonly firstUpdate = this.updated.promise;
  readonly key: string;
  readonly jobId: string;

  constructor(
    readonly source: Source,
    readonly dialect: Dialect,
    readonly ref: JobRef,
    private readonly emit: (events: JobEvent[]) => void,
    private readonly onModeChange: (feed: JobFeed) => void,
    private readonly options: FeedOptions = DEFAULT_FEED_OPTIONS,
    private readonly pinnedStream?: StreamRequest,
  ) {
    this.jobId = ref.jobId;
    this.key = jobKey(source.id, ref.jobId);
    this.pinned = pinnedStream !== undefined;
  }

  get active(): boolean {
    return !this.done && !this.halted;
  }

  get statusUrl(): string | undefined {
    return this.dialect.parseStatus ? this.dialect.statusUrl?.(this.source, this.ref) : undefined;
  }

  get canPoll(): boolean {
    return this.statusUrl !== undefined;
  }

  stream(): void {
    if (!this.active || this.mode === 'stream') return;
    this.stopTransports();
    const request = this.pinnedStream ?? this.dialect.streamRequest(this.source, this.ref);
    if (request.transport === 'none') {
      if (this.canPoll) {
        this.streamFailed = true;
        this.poll(request.reason);
      } else {
        // nothing is broken: the platform simply offers this viewer no stream
        this.halt(request.reason, false);
      }
      this.onModeChange(this);
      return;
    }
    this.mode = 'stream';
    if (this.dialect.snapshotBeforeStream && !this.snapshotTaken && this.canPoll) void this.snapshot();
    if (request.transport === 'websocket') {
      this.link('websocket', 'connecting');
      this.ws = new WsConnection({
        url: request.url,
        retryBaseMs: this.options.retryBaseMs,
        retryMaxMs: this.options.retryMaxMs,
        maxReconnects: this.options.maxReconnects,
        WebSocket: this.options.WebSocket,
        onSignal: (signal) => this.onWs(signal),
      }).start();
      return;
    }
    this.link('sse', 'connecting');
    this.sse = new SseConnection({
      url: request.url,
      method: request.method,
      body: request.body,
      headers: () => ({ ...this.dialect.authHeaders(this.source), ...request.headers }),
      lastEventId: this.lastEventId,
      retryBaseMs: this.options.retryBaseMs,
      retryMaxMs: this.options.retryMaxMs,
      maxReconnects: request.resumable ? this.options.maxReconnects : 0,
      reconnectOnEnd: request.resumable,
      fetch: this.options.fetch,
      onSignal: (signal) => this.onSse(signal),
    }).start();
  }

  /** Poll where the platform allows it; otherwise wait for a stream slot. */
  poll(why?: string): void {
    if (!this.active || this.mode === 'poll' || this.mode === 'queued') return;
    if (this.pinned) return this.stream();
    this.stopTransports();
    const url = this.statusUrl;
    if (!url) {
      this.mode = 'queued';
      this.link('none', 'idle', 'Waiting for a free stream slot');
      return;
    }
    this.mode = 'poll';
    this.link('polling', 'polling', why ?? `Polling every ${this.options.pollIntervalMs / 1000} s (stream slots in use)`);
    this.poller = new Poller({
      url,
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

  /** The operator cancelled: a job whose stream is its request ends with it. */
  cancel(): void {
    if (!this.active) return;
    this.done = true;
    this.stop();
    const now = Date.now();
    this.emit([{ ...this.base(now), kind: 'update', label: 'cancelled', update: { status: 'cancelled', message: 'Cancelled by the operator' } }]);
    this.link('none', 'closed', 'Cancelled: the request was aborted');
    this.onModeChange(this);
  }

  private stopTransports(): void {
    this.sse?.close();
    this.sse = undefined;
    this.ws?.close();
    this.ws = undefined;
    this.poller?.stop();
    this.poller = undefined;
  }

  private base(at: number) {
    return { key: this.key, sourceId: this.source.id, jobId: this.jobId, platform: this.dialect.kind, at, receivedAt: at };
  }

  private context(receivedAt: number): WireContext {
    return { source: this.source, jobId: this.jobId, receivedAt };
  }

  private async snapshot(): Promise<void> {
    this.snapshotTaken = true;
    try {
      const body = await requestJson(this.statusUrl!, { headers: this.dialect.authHeaders(this.source), fetch: this.options.fetch });
      if (this.active) this.deliver(this.dialect.parseStatus!(this.context(Date.now()), JSON.stringify(body)));
    } catch (error) {
      if (isTransportError(error) && this.active) this.mustOperatorAct(error);
    }
  }

  private deliver(events: JobEvent[]): void {
    if (events.length === 0) return;
    this.emit(events);
    if (!this.updated.settled && events.some((event) => event.kind === 'update')) this.updated.resolve();
    const finished = events.some((event) => event.kind === 'update' && event.update.status && isTerminal(event.update.status));
    if (finished && this.active) {
      this.done = true;
      this.stop();
      this.link('none', 'closed', 'Job finished');
      this.onModeChange(this);
    }
  }

  private onSse(signal: SseSignal): void {
    switch (signal.type) {
      case 'open':
        this.opened.resolve();
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
        this.reconnecting('sse', signal);
        return;
      case 'closed':
        this.sse = undefined;
        this.onStreamClosed(signal.reason, signal.error);
        return;
      default:
        return;
    }
  }

  private onWs(signal: WsSignal): void {
    switch (signal.type) {
      case 'open':
        this.opened.resolve();
        this.link('websocket', 'live');
        return;
      case 'message':
        this.deliver(this.dialect.parseStreamMessage(this.context(signal.at), { data: signal.data, event: 'message', lastEventId: '' }));
        return;
      case 'retrying':
        this.reconnecting('websocket', signal);
        return;
      case 'closed': {
        this.ws = undefined;
        // A policy close (1008, 4xxx) is the socket's 401: the operator has to act.
        const error = signal.reason === 'fatal' && signal.error ? { ...signal.error, status: 401 } : signal.error;
        this.onStreamClosed(signal.reason, error);
        return;
      }
      default:
        return;
    }
  }

  private reconnecting(transport: Transport, signal: { error: TransportError; attempt: number; delayMs: number }): void {
    this.link(transport, 'reconnecting', `${signal.error.message}; reconnect ${signal.attempt} in ${(signal.delayMs / 1000).toFixed(1)} s`, { reconnect: true });
  }

  private onStreamClosed(reason: 'ended' | 'aborted' | 'gave-up' | 'fatal', error?: TransportError): void {
    if (reason === 'aborted' || !this.active) return;
    this.mode = 'idle';
    if (reason === 'fatal' && error && this.mustOperatorAct(error)) return;
    if (this.pinned) {
      this.halt(error?.message ?? 'The stream ended before the job finished; this platform cannot resume it');
      this.onModeChange(this);
      return;
    }
    this.streamFailed = true;
    if (this.canPoll) {
      const why = reason === 'gave-up'
        ? `Stream failed ${this.options.maxReconnects} reconnects (${error?.message ?? 'no reason'}): polling every ${this.options.pollIntervalMs / 1000} s`
        : `Stream unusable (${error?.message ?? 'ended early'}): polling every ${this.options.pollIntervalMs / 1000} s`;
      this.poll(why);
    } else {
      this.halt(error?.message ?? 'The stream ended before the job finished');
    }
    this.onModeChange(this);
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

  private halt(detail: string, fatal = true): void {
    this.halted = true;
    this.stop();
    if (!this.opened.settled) this.opened.reject(new Error(detail));
    this.link('none', fatal ? 'error' : 'idle', detail, { fatal });
  }

  /** at most one heartbeat event a second: enough for staleness, cheap under chatty pings */
  private heartbeat(at: number): void {
    if (at - this.lastHeartbeatAt < 1000) return;
    this.lastHeartbeatAt = at;
    this.emit([{ ...this.base(at), kind: 'heartbeat' }]);
  }

  private link(transport: Transport, link: LinkState, detail?: string, extra: { reconnect?: boolean; fatal?: boolean } = {}): void {
    const signature = `${transport}|${link}|${detail ?? ''}`;
    if (signature === this.lastLink && !extra.reconnect) return;
    this.lastLink = signature;
    this.emit([{ ...this.base(Date.now()), kind: 'link', transport, link, detail, ...extra }]);
  }
}
