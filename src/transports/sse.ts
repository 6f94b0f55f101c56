import { createParser } from 'eventsource-parser';
import { definedOnly, StallWatchdog, yieldTurn } from './connection';
import { isTransportError, networkError, TransportError } from './error';
import { httpError } from './http';
import { IdOnlyBlockScanner } from './idOnlyBlocks';
import { DEFAULT_RECONNECT, ReconnectingConnection, type AttemptOutcome, type LifecycleSignal, type ReconnectPolicy } from './reconnect';

/** Everything a stream reports, each stamped with its arrival time. */
export type SseSignal =
  | LifecycleSignal
  /** `url` is the one that answered (of `url` and `fallbackUrls`, or what `prepare` gave) */
  | { type: 'open'; at: number; status: number; url: string }
  /** `id` is this event's own id field, if it had one; `lastEventId` is the running one */
  | { type: 'message'; at: number; data: string; event: string; id?: string; lastEventId: string }
  | { type: 'comment'; at: number; text: string }
  /** no byte for `stallTimeoutMs`: the attempt is dropped and a reconnect follows */
  | { type: 'stalled'; at: number; silentMs: number };

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
  /** @default 'GET' */
  method?: 'GET' | 'POST';
  /** asked before every attempt, so a renewed token is picked up */
  headers?: () => Record<string, string>;
  body?: string;
  /** how to try again (a `retry:` field from the server is a floor under the backoff) @default DEFAULT_RECONNECT */
  reconnect?: Partial<ReconnectPolicy>;
  /** resume from this id on the first request */
  lastEventId?: string;
  /** no byte for this long means the connection is dead (3x the expected heartbeat); 0 disables @default 0 */
  stallTimeoutMs?: number;
  onSignal: (signal: SseSignal) => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

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
export class SseConnection extends ReconnectingConnection {
  /** the WHATWG "last event ID string": sent as Last-Event-ID on reconnect */
  lastEventId: string;
  bytesReceived = 0;
  eventsReceived = 0;
  private retryFieldMs = 0;
  private attemptController: AbortController | undefined;
  private readonly options: Required<Omit<SseOptions, 'headers' | 'body' | 'lastEventId' | 'prepare' | 'reconnect'>> &
    Pick<SseOptions, 'headers' | 'body' | 'prepare'>;
  private readonly urls: string[];
  private urlIndex = 0;
  private everOpened = false;

  constructor(options: SseOptions) {
    super({ ...DEFAULT_RECONNECT, ...definedOnly(options.reconnect ?? {}) });
    const { reconnect: _policy, ...rest } = options;
    this.options = {
      method: 'GET',
      stallTimeoutMs: 0,
      renewAfterMs: 0,
      fallbackUrls: [],
      ...definedOnly(rest),
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

  protected lifecycle(signal: LifecycleSignal): void {
    this.emit(signal);
  }

  /** the server's `retry:` field: a floor under the backoff */
  protected serverRetryMs(): number {
    return this.retryFieldMs;
  }

  protected onFinish(): void {
    this.attemptController?.abort();
  }

  protected async attempt(): Promise<AttemptOutcome> {
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
        return failure.retryable ? { kind: 'failed', sawData: false, error: failure } : { kind: 'fatal', error: failure };
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
      return this.closed ? { kind: 'aborted' } : { kind: 'failed', sawData: false, error: networkError(error) };
    }
    // 204: the server says the stream is over
    if (response.status === 204) return { kind: 'done' };
    if (!response.ok) {
      const error = await httpError(response);
      if (error.routeMissing && !this.everOpened && this.urlIndex < this.urls.length - 1) {
        this.urlIndex++;
        return { kind: 'again' };
      }
      return error.retryable ? { kind: 'failed', sawData: false, error } : { kind: 'fatal', error };
    }
    const contentType = response.headers.get('Content-Type') ?? '';
    if (!EVENT_STREAM.test(contentType)) {
      void response.body?.cancel();
      return {
        kind: 'fatal',
        error: new TransportError({
          kind: 'content-type',
          status: response.status,
          message: `Expected an event stream but got ${contentType || 'no Content-Type'}: a proxy or login page may be in the way`,
          retryable: false,
        }),
      };
    }
    if (!response.body)
      return { kind: 'failed', sawData: false, error: new TransportError({ kind: 'stream', message: 'Response has no body', retryable: true }) };
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
        this.retryFieldMs = ms;
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
      return { kind: 'ended', sawData: sawEvent };
    } catch (error) {
      if (this.closed) return { kind: 'aborted' };
      if (renewing) return { kind: 'again' };
      if (stalled) {
        return {
          kind: 'failed',
          sawData: sawEvent,
          error: new TransportError({
            kind: 'stream',
            message: `No data for ${Math.round(this.options.stallTimeoutMs / 1000)} s: the stream stalled`,
            retryable: true,
          }),
        };
      }
      return {
        kind: 'failed',
        sawData: sawEvent,
        error: new TransportError({ kind: 'stream', message: `Stream interrupted: ${(error as Error).message ?? error}`, retryable: true }, { cause: error }),
      };
    } finally {
      watchdog.stop();
      clearTimeout(renewal);
      controller.signal.removeEventListener('abort', abortRead);
    }
  }
}
