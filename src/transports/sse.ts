import { createParser } from 'eventsource-parser';
import { browserOffline, ManagedConnection, ReconnectBudget, StallWatchdog } from './connection';
import { httpError, networkError, type TransportError } from './http';
import { IdOnlyBlockScanner } from './idOnlyBlocks';

export type SseCloseReason = 'ended' | 'aborted' | 'gave-up' | 'fatal';

/** Everything a stream reports, each stamped with its arrival time. */
export type SseSignal =
  | { type: 'connecting'; at: number; attempt: number }
  | { type: 'open'; at: number; status: number }
  /** `id` is this event's own id field, if it had one; `lastEventId` is the running one */
  | { type: 'message'; at: number; data: string; event: string; id?: string; lastEventId: string }
  | { type: 'comment'; at: number; text: string }
  /** no byte for `stallTimeoutMs`: the attempt is dropped and a reconnect follows */
  | { type: 'stalled'; at: number; silentMs: number }
  | { type: 'retrying'; at: number; attempt: number; delayMs: number; error: TransportError }
  | { type: 'closed'; at: number; reason: SseCloseReason; error?: TransportError };

export interface SseOptions {
  url: string;
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
  | { kind: 'failed'; sawEvent: boolean; error: TransportError }
  | { kind: 'fatal'; error: TransportError }
  | { kind: 'no-content' }
  | { kind: 'aborted' };

const EVENT_STREAM = /^text\/event-stream\b/i;

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
  private readonly options: Required<Omit<SseOptions, 'headers' | 'body' | 'lastEventId'>> &
    Pick<SseOptions, 'headers' | 'body'>;

  constructor(options: SseOptions) {
    super();
    this.options = {
      method: 'GET',
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      maxReconnects: Number.POSITIVE_INFINITY,
      reconnectOnEnd: true,
      stallTimeoutMs: 0,
      random: Math.random,
      ...options,
      // an explicit `fetch: undefined` must not wipe out the default
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
    this.lastEventId = options.lastEventId ?? '';
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
      const error: TransportError =
        outcome.kind === 'failed' ? outcome.error : { kind: 'stream', message: 'The server ended the stream', retryable: true };
      if (browserOffline()) {
        // wait for the network (wake() on 'online') without spending the reconnect budget
        this.emit({ type: 'retrying', at: Date.now(), attempt: budget.attempt, delayMs: 60_000, error: { kind: 'network', message: 'Offline: waiting for the network', retryable: true } });
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
      const delayMs = Math.max(this.serverRetryMs ?? 0, error.retryAfterMs ?? 0, backoffMs);
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
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.options.headers?.() };
    if (this.lastEventId !== '') headers['Last-Event-ID'] = this.lastEventId;
    let response: Response;
    try {
      response = await this.options.fetch(this.options.url, {
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
    this.emit({ type: 'open', at: Date.now(), status: response.status });
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
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.closed) return { kind: 'aborted' };
        if (stalled) throw new Error('stalled');
        if (done) break;
        watchdog.touch();
        this.bytesReceived += value.byteLength;
        const text = decoder.decode(value, { stream: true });
        parser.feed(text);
        if (this.closed) return { kind: 'aborted' };
        idOnly.feed(value);
      }
      return { kind: 'ended', sawEvent };
    } catch (error) {
      if (this.closed) return { kind: 'aborted' };
      if (stalled) {
        return { kind: 'failed', sawEvent, error: { kind: 'stream', message: `No data for ${Math.round(this.options.stallTimeoutMs / 1000)} s: the stream stalled`, retryable: true } };
      }
      return { kind: 'failed', sawEvent, error: { ...networkError(error), kind: 'stream', message: `Stream interrupted: ${(error as Error).message ?? error}` } };
    } finally {
      watchdog.stop();
      controller.signal.removeEventListener('abort', abortRead);
    }
  }
}
