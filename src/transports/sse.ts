import { createParser } from 'eventsource-parser';
import { browserOffline, definedOnly, ManagedConnection, ReconnectBudget, StallWatchdog, yieldTurn } from './connection';
import { httpError, isTransportError, networkError, type TransportError } from './http';
import { IdOnlyBlockScanner } from './idOnlyBlocks';

export type SseCloseReason = 'ended' | 'aborted' | 'gave-up' | 'fatal';

/** Everything a stream reports, each stamped with its arrival time. */
export type SseSignal =
  | { type: 'connecting'; at: number; attempt: number }
  /** `url` is the one that answered (of `url` and `fallbackUrls`, or what `prepare` gave) */
  | { type: 'open'; at: number; status: number; url: string }
  /** `id` is this event's own id field, if it had one; `lastEventId` is the running one */
  | { type: 'message'; at: number; data: string; event: string; id?: string; lastEventId: string }
  | { type: 'comment'; at: number; text: string }
  /** no byte for `stallTimeoutMs`: the attempt is dropped and a reconnect follows */
  | { type: 'stalled'; at: number; silentMs: number }
  | { type: 'retrying'; at: number; attempt: number; delayMs: number; error: TransportError }
  | { type: 'closed'; at: number; reason: SseCloseReason; error?: TransportError };

export interface SseOptions {
  url: string;
  /**
   * Other paths the same stream may live on, tried in turn while the server answers that a
   * path does not exist (a 404 for the path itself), until one opens. @default []
   */
  fallbackUrls?: string[];
  /**
   * Called before every attempt for the URL and headers to use (a single-use token is fetched
   * fresh each time). A TransportError it throws ends the attempt as that error would.
   */
  prepare?: () => Promise<{ url: string; headers?: Record<string, string> }>;
  /** reconnect at once after this long on one connection; 0 never @default 0 */
  renewAfterMs?: number;
  /** never reconnect sooner than this, even after a clean end (a platform that rations its stream tokens) @default 0 */
  retryFloorMs?: number;
  /** @default 'GET' */
  method?: 'GET' | 'POST';
  /** asked before every attempt, so a renewed token is picked up */
  headers?: () => Record<string, string>;
  body?: string;
  /** first reconnect delay before jitter; a `retry:` field from the server overrides it as a floor @default 1000 */
  retryBaseMs?: number;
  /** @default 30000 */
  retryMaxMs?: number;
  /** failed reconnects in a row before giving up (the caller falls back) @default Infinity */
  maxReconnects?: number;
  /** reconnect when the server ends the response, as EventSource does @default true */
  reconnectOnEnd?: boolean;
  /** resume from this id on the first request */
  lastEventId?: string;
  /** no byte for this long means the connection is dead (3x the expected heartbeat); 0 disables @default 0 */
  stallTimeoutMs?: number;
  onSignal: (signal: SseSignal) => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default Math.random */
  random?: () => number;
}

type AttemptOutcome =
  | { kind: 'ended'; sawEvent: boolean }
  /** the path was unknown and another candidate is next, or the connection was renewed: go on at once */
  | { kind: 'again' }
  | { kind: 'failed'; sawEvent: boolean; error: TransportError }
  | { kind: 'fatal'; error: TransportError }
  | { kind: 'no-content' }
  | { kind: 'aborted' };

const EVENT_STREAM = /^text\/event-stream\b/i;

/** reading goes on for at most this long before the page gets a turn (a flood, a replay) */
const READ_BUDGET_MS = 12;
/** decoded text is parsed in slices this long, so a huge read can be interrupted too */
const SLICE_CHARS = 64 * 1024;

/**
 * Server-sent events over fetch: any method, any header, a body, and the WHATWG reconnection
 * rules (Last-Event-ID, retry:) plus a status policy EventSource lacks: 204 ends, 4xx other than
 * 408/429 stop with the reason, 429/5xx wait for Retry-After. Knows nothing of any platform.
 */
export class SseConnection extends ManagedConnection {
  /** the WHATWG "last event ID string": sent as Last-Event-ID on reconnect */
  lastEventId: string;
  bytesReceived = 0;
  eventsReceived = 0;
  private serverRetryMs: number | undefined;
  private attemptController: AbortController | undefined;
  private readonly options: Required<Omit<SseOptions, 'headers' | 'body' | 'lastEventId' | 'prepare'>> & Pick<SseOptions, 'headers' | 'body' | 'prepare'>;
  private readonly urls: string[];
  private urlIndex = 0;
  private everOpened = false;

  constructor(options: SseOptions) {
    super();
    this.options = {
      method: 'GET',
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      maxReconnects: Number.POSITIVE_INFINITY,
      reconnectOnEnd: true,
      stallTimeoutMs: 0,
      renewAfterMs: 0,
      retryFloorMs: 0,
      fallbackUrls: [],
      random: Math.random,
      ...definedOnly(options),
      // an explicit `fetch: undefined` must not wipe out the default
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
    this.lastEventId = options.lastEventId ?? '';
    this.urls = [options.url, ...(options.fallbackUrls ?? [])];
  }

  /** Stops for good: aborts the request in flight and any pending reconnect. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.controller.abort();
    this.attemptController?.abort();
  }

  private emit(signal: SseSignal): void {
    this.options.onSignal(signal);
  }

  protected async run(): Promise<void> {
    const budget = new ReconnectBudget(this.options.maxReconnects, this.options.retryBaseMs, this.options.retryMaxMs, this.options.random);
    for (;;) {
      this.emit({ type: 'connecting', at: Date.now(), attempt: budget.attempt });
      const outcome = await this.attempt();
      if (this.closed || outcome.kind === 'aborted') {
        this.emit({ type: 'closed', at: Date.now(), reason: 'aborted' });
        return;
      }
      if (outcome.kind === 'again') continue;
      if (outcome.kind === 'fatal') {
        this.close();
        this.emit({ type: 'closed', at: Date.now(), reason: 'fatal', error: outcome.error });
        return;
      }
      if (outcome.kind === 'no-content' || (outcome.kind === 'ended' && !this.options.reconnectOnEnd)) {
        this.close();
        this.emit({ type: 'closed', at: Date.now(), reason: 'ended' });
        return;
      }
      const error: TransportError = outcome.kind === 'failed' ? outcome.error : { kind: 'stream', message: 'The server ended the stream', retryable: true };
      if (browserOffline()) {
        // wait for the network (wake() on 'online') without spending the reconnect budget
        this.emit({
          type: 'retrying',
          at: Date.now(),
          attempt: budget.attempt,
          delayMs: 60_000,
          error: { kind: 'network', message: 'Offline: waiting for the network', retryable: true },
        });
        await this.sleep(60_000);
        if (this.closed) {
          this.emit({ type: 'closed', at: Date.now(), reason: 'aborted' });
          return;
        }
        continue;
      }
      const backoffMs = budget.next(outcome.sawEvent);
      if (backoffMs === undefined) {
        this.close();
        this.emit({ type: 'closed', at: Date.now(), reason: 'gave-up', error });
        return;
      }
      // retry: from the server and Retry-After are floors under the jittered backoff
      const delayMs = Math.max(this.serverRetryMs ?? 0, error.retryAfterMs ?? 0, this.options.retryFloorMs, backoffMs);
      this.emit({ type: 'retrying', at: Date.now(), attempt: budget.attempt, delayMs, error });
      await this.sleep(delayMs);
      if (this.closed) {
        this.emit({ type: 'closed', at: Date.now(), reason: 'aborted' });
        return;
      }
    }
  }

  private async attempt(): Promise<AttemptOutcome> {
    const controller = new AbortController();
    this.attemptController = controller;
    let url = this.urls[this.urlIndex];
    let prepared: Record<string, string> = {};
    if (this.options.prepare) {
      try {
        const next = await this.options.prepare();
        url = next.url;
        prepared = next.headers ?? {};
      } catch (error) {
        if (this.closed) return { kind: 'aborted' };
        const failure = isTransportError(error) ? error : networkError(error);
        return failure.retryable ? { kind: 'failed', sawEvent: false, error: failure } : { kind: 'fatal', error: failure };
      }
      if (this.closed) return { kind: 'aborted' };
    }
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.options.headers?.(), ...prepared };
    if (this.lastEventId !== '') headers['Last-Event-ID'] = this.lastEventId;
    let response: Response;
    try {
      response = await this.options.fetch(url, {
        method: this.options.method,
        headers,
        body: this.options.body,
        signal: controller.signal,
      });
    } catch (error) {
      return this.closed ? { kind: 'aborted' } : { kind: 'failed', sawEvent: false, error: networkError(error) };
    }
    if (response.status === 204) return { kind: 'no-content' };
    if (!response.ok) {
      const error = await httpError(response);
      if (error.routeMissing && !this.everOpened && this.urlIndex < this.urls.length - 1) {
        this.urlIndex++;
        return { kind: 'again' };
      }
      return error.retryable ? { kind: 'failed', sawEvent: false, error } : { kind: 'fatal', error };
    }
    const contentType = response.headers.get('Content-Type') ?? '';
    if (!EVENT_STREAM.test(contentType)) {
      void response.body?.cancel();
      return {
        kind: 'fatal',
        error: {
          kind: 'content-type',
          status: response.status,
          message: `Expected an event stream but got ${contentType || 'no Content-Type'}: a proxy or login page may be in the way`,
          retryable: false,
        },
      };
    }
    if (!response.body) return { kind: 'failed', sawEvent: false, error: { kind: 'stream', message: 'Response has no body', retryable: true } };
    this.everOpened = true;
    this.emit({ type: 'open', at: Date.now(), status: response.status, url });
    return this.read(response.body, controller);
  }

  private async read(body: ReadableStream<Uint8Array>, controller: AbortController): Promise<AttemptOutcome> {
    let sawEvent = false;
    // Always UTF-8, whatever charset the Content-Type claims; stream: true keeps a multi-byte
    // character split across chunks whole, and the decoder strips only a leading BOM.
    const decoder = new TextDecoder('utf-8');
    const parser = createParser({
      onEvent: (message) => {
        sawEvent = true;
        if (message.id !== undefined) this.lastEventId = message.id;
        this.eventsReceived++;
        this.emit({ type: 'message', at: Date.now(), data: message.data, event: message.event || 'message', id: message.id, lastEventId: this.lastEventId });
      },
      onComment: (text) => this.emit({ type: 'comment', at: Date.now(), text }),
      onRetry: (ms) => {
        this.serverRetryMs = ms;
      },
    });
    const idOnly = new IdOnlyBlockScanner((id) => {
      this.lastEventId = id;
    });
    const reader = body.getReader();
    const abortRead = () => void reader.cancel().catch(() => {});
    controller.signal.addEventListener('abort', abortRead, { once: true });
    let stalled = false;
    const watchdog = new StallWatchdog(this.options.stallTimeoutMs, () => {
      stalled = true;
      this.emit({ type: 'stalled', at: Date.now(), silentMs: this.options.stallTimeoutMs });
      controller.abort();
    });
    watchdog.touch();
    let renewing = false;
    const renewal =
      this.options.renewAfterMs > 0
        ? setTimeout(() => {
            renewing = true;
            controller.abort();
          }, this.options.renewAfterMs)
        : undefined;
    let turnStartedAt = performance.now();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.closed) return { kind: 'aborted' };
        if (stalled) throw new Error('stalled');
        if (renewing) return { kind: 'again' };
        if (done) break;
        watchdog.touch();
        this.bytesReceived += value.byteLength;
        const text = decoder.decode(value, { stream: true });
        for (let at = 0; at < text.length; at += SLICE_CHARS) {
          parser.feed(at === 0 && text.length <= SLICE_CHARS ? text : text.slice(at, at + SLICE_CHARS));
          if (this.closed) return { kind: 'aborted' };
          if (performance.now() - turnStartedAt > READ_BUDGET_MS) {
            await yieldTurn();
            if (this.closed) return { kind: 'aborted' };
            turnStartedAt = performance.now();
          }
        }
        idOnly.feed(value);
      }
      return { kind: 'ended', sawEvent };
    } catch (error) {
      if (this.closed) return { kind: 'aborted' };
      if (renewing) return { kind: 'again' };
      if (stalled) {
        return {
          kind: 'failed',
          sawEvent,
          error: { kind: 'stream', message: `No data for ${Math.round(this.options.stallTimeoutMs / 1000)} s: the stream stalled`, retryable: true },
        };
      }
      return {
        kind: 'failed',
        sawEvent,
        error: { ...networkError(error), kind: 'stream', message: `Stream interrupted: ${(error as Error).message ?? error}` },
      };
    } finally {
      watchdog.stop();
      clearTimeout(renewal);
      controller.signal.removeEventListener('abort', abortRead);
    }
  }
}
