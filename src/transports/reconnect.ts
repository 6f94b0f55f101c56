import { browserOffline, ManagedConnection } from './connection';
import { TransportError } from './error';
import { backoffDelay } from './http';

/** How a stream (SSE or WebSocket) tries again: the one policy both transports follow. */
export interface ReconnectPolicy {
  /** first backoff before jitter; doubles with every failed reconnect @default 1000 */
  baseMs: number;
  /** @default 30000 */
  maxMs: number;
  /** failed reconnects in a row before giving up (the caller falls back) @default Infinity */
  maxReconnects: number;
  /** never sooner than this, even after a clean end (a platform that rations what a connection needs) @default 0 */
  floorMs: number;
  /** reconnect when the server ends the connection cleanly, as EventSource does @default true */
  onEnd: boolean;
  /** @default Math.random */
  random: () => number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  baseMs: 1000,
  maxMs: 30_000,
  maxReconnects: Number.POSITIVE_INFINITY,
  floorMs: 0,
  onEnd: true,
  random: Math.random,
};

/** What one connection attempt came to. */
export type AttemptOutcome =
  /** the server ended it cleanly; reconnect as the policy says */
  | { kind: 'ended'; sawData: boolean }
  /** the server said it is over (SSE 204, WebSocket 1000): never reconnect */
  | { kind: 'done' }
  /** try again at once, without spending the budget (another path; a planned renewal) */
  | { kind: 'again' }
  /** it broke: reconnect with backoff */
  | { kind: 'failed'; sawData: boolean; error: TransportError }
  /** it cannot work by trying again: stop with the reason */
  | { kind: 'fatal'; error: TransportError }
  | { kind: 'aborted' };

export type CloseReason = 'ended' | 'aborted' | 'gave-up' | 'fatal';

/** The life-cycle news every stream reports, each stamped with its time. */
export type LifecycleSignal =
  | { type: 'connecting'; at: number; attempt: number }
  | { type: 'retrying'; at: number; attempt: number; delayMs: number; error: TransportError }
  /** `code`: the WebSocket close code, where there was one */
  | { type: 'closed'; at: number; reason: CloseReason; error?: TransportError; code?: number };

/**
 * Failed reconnects since the connection last delivered something: an attempt that brought
 * data resets the count, and the very first attempt is a connect, not a reconnect.
 */
export class ReconnectBudget {
  attempt = 0;
  private failedReconnects = 0;

  constructor(private readonly policy: Pick<ReconnectPolicy, 'maxReconnects' | 'baseMs' | 'maxMs' | 'random'>) {}

  /** After an attempt ended: the backoff for the next one, or undefined when the budget is spent. */
  next(sawData: boolean): number | undefined {
    if (sawData) this.failedReconnects = 0;
    else if (this.attempt > 0) this.failedReconnects++;
    if (this.failedReconnects >= this.policy.maxReconnects) return undefined;
    this.attempt++;
    return backoffDelay(this.failedReconnects, this.policy.baseMs, this.policy.maxMs, this.policy.random);
  }
}

/** waited while the browser is offline; `wake()` on 'online' ends the wait at once */
const OFFLINE_WAIT_MS = 60_000;

/**
 * The one reconnect loop: attempt, and after each outcome end, stop, or wait and try again,
 * by the policy, with full-jitter backoff (the AWS architecture blog's), the server's own
 * floors (`retry:`, Retry-After), and no budget spent while the browser is offline. A
 * transport supplies one attempt and reports its own signals; this loop reports the life cycle.
 */
export abstract class ReconnectingConnection extends ManagedConnection {
  protected constructor(protected readonly policy: ReconnectPolicy) {
    super();
  }

  /** One connection, start to end. */
  protected abstract attempt(): Promise<AttemptOutcome>;

  /** Life-cycle news, for the transport to pass on with its own signals. */
  protected abstract lifecycle(signal: LifecycleSignal): void;

  /** Before a retry: a chance to conclude more than the attempt said (a refused handshake). */
  protected async beforeRetry(
    _outcome: Extract<AttemptOutcome, { kind: 'failed' | 'ended' }>,
  ): Promise<Extract<AttemptOutcome, { kind: 'fatal' }> | undefined> {
    return undefined;
  }

  /** A wait the server asked for on the connection itself (SSE `retry:`), a floor under the backoff. */
  protected serverRetryMs(): number {
    return 0;
  }

  /** The close code of the last attempt, where the transport has one. */
  protected lastCloseCode(): number | undefined {
    return undefined;
  }

  protected async run(): Promise<void> {
    const budget = new ReconnectBudget(this.policy);
    for (;;) {
      this.lifecycle({ type: 'connecting', at: Date.now(), attempt: budget.attempt });
      const outcome = await this.attempt();
      if (this.closed || outcome.kind === 'aborted') return this.finish('aborted');
      if (outcome.kind === 'again') continue;
      if (outcome.kind === 'fatal') return this.finish('fatal', outcome.error);
      if (outcome.kind === 'done' || (outcome.kind === 'ended' && !this.policy.onEnd)) return this.finish('ended');
      const concluded = await this.beforeRetry(outcome);
      if (this.closed) return this.finish('aborted');
      if (concluded) return this.finish('fatal', concluded.error);
      const error =
        outcome.kind === 'failed' ? outcome.error : new TransportError({ kind: 'stream', message: 'The server ended the connection', retryable: true });
      if (browserOffline()) {
        // wait for the network (wake() on 'online') without spending the reconnect budget
        this.lifecycle({
          type: 'retrying',
          at: Date.now(),
          attempt: budget.attempt,
          delayMs: OFFLINE_WAIT_MS,
          error: error.with({ kind: 'network', message: 'Offline: waiting for the network' }),
        });
        await this.sleep(OFFLINE_WAIT_MS);
        if (this.closed) return this.finish('aborted');
        continue;
      }
      const backoffMs = budget.next(outcome.sawData);
      if (backoffMs === undefined) return this.finish('gave-up', error);
      const delayMs = Math.max(this.serverRetryMs(), error.retryAfterMs ?? 0, this.policy.floorMs, backoffMs);
      this.lifecycle({ type: 'retrying', at: Date.now(), attempt: budget.attempt, delayMs, error });
      await this.sleep(delayMs);
      if (this.closed) return this.finish('aborted');
    }
  }

  private finish(reason: CloseReason, error?: TransportError): void {
    this.controller.abort();
    this.onFinish();
    this.lifecycle({ type: 'closed', at: Date.now(), reason, error, code: this.lastCloseCode() });
  }

  /** Let go of whatever the last attempt holds (an open socket). */
  protected onFinish(): void {}
}
