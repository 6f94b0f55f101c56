import { definedOnly, ManagedConnection } from './connection';
import { networkError, type TransportError } from './error';
import { backoffDelay, httpError } from './http';
import { inOriginTurn } from './originGate';

export type PollSignal =
  /** `url` is the one that answered (of `url` and `fallbackUrls`) */
  | { type: 'response'; at: number; body: string; url: string }
  | { type: 'failed'; at: number; error: TransportError; consecutive: number }
  | { type: 'closed'; at: number; reason: 'stopped' | 'fatal' | 'gave-up'; error?: TransportError };

export interface PollOptions {
  url: string;
  /** other paths the same status may live on, tried in turn while a path answers that it does not exist @default [] */
  fallbackUrls?: string[];
  headers?: () => Record<string, string>;
  /** @default 2000 (the CodeBegen guide's interval) */
  intervalMs?: number;
  /** errors in a row before giving up, so a dead endpoint is not hammered forever @default 30 */
  maxConsecutiveErrors?: number;
  onSignal: (signal: PollSignal) => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Fetches a status URL on an interval. 401/403/404 stop with the reason; other errors back off. */
export class Poller extends ManagedConnection {
  private readonly options: Required<Omit<PollOptions, 'headers'>> & Pick<PollOptions, 'headers'>;
  private readonly urls: string[];
  private urlIndex = 0;
  private answered = false;

  constructor(options: PollOptions) {
    super();
    this.options = {
      intervalMs: 2000,
      maxConsecutiveErrors: 30,
      fallbackUrls: [],
      ...definedOnly(options),
      // an explicit `fetch: undefined` must not wipe out the default
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
    this.urls = [options.url, ...(options.fallbackUrls ?? [])];
  }

  get stopped(): boolean {
    return this.closed;
  }

  stop(): void {
    this.controller.abort();
  }

  /** Poll now instead of waiting out the interval (e.g. the tab became visible). */
  pollNow(): void {
    this.wake();
  }

  protected async run(): Promise<void> {
    let consecutiveErrors = 0;
    while (!this.stopped) {
      let error: TransportError | undefined;
      const url = this.urls[this.urlIndex];
      try {
        // the response read whole in the origin's turn: its connection is busy until then
        const answer = await inOriginTurn(url, false, async () => {
          const response = await this.options.fetch(url, {
            headers: { Accept: 'application/json', ...this.options.headers?.() },
            signal: this.controller.signal,
          });
          return response.ok ? { ok: true as const, body: await response.text() } : { ok: false as const, error: await httpError(response) };
        });
        if (this.stopped) break;
        if (answer.ok) {
          const { body } = answer;
          consecutiveErrors = 0;
          this.answered = true;
          this.options.onSignal({ type: 'response', at: Date.now(), body, url });
        } else {
          error = answer.error;
          if (error.routeMissing && !this.answered && this.urlIndex < this.urls.length - 1) {
            // that path does not exist here: the next candidate, at once
            this.urlIndex++;
            continue;
          }
        }
      } catch (caught) {
        if (this.stopped) break;
        error = networkError(caught);
      }
      if (this.stopped) break;
      let waitMs = this.options.intervalMs;
      if (error) {
        consecutiveErrors++;
        if (!error.retryable) {
          this.controller.abort();
          this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'fatal', error });
          return;
        }
        if (consecutiveErrors >= this.options.maxConsecutiveErrors) {
          this.controller.abort();
          this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'gave-up', error });
          return;
        }
        this.options.onSignal({ type: 'failed', at: Date.now(), error, consecutive: consecutiveErrors });
        waitMs = Math.max(waitMs, error.retryAfterMs ?? 0, backoffDelay(consecutiveErrors, this.options.intervalMs, 30_000));
      }
      await this.sleep(waitMs);
    }
    this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'stopped' });
  }
}
