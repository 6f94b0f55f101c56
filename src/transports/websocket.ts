import { browserOffline, ManagedConnection, ReconnectBudget, StallWatchdog } from './connection';
import type { TransportError } from './http';

export type WsCloseReason = 'ended' | 'aborted' | 'gave-up' | 'fatal';

export type WsSignal =
  | { type: 'connecting'; at: number; attempt: number }
  | { type: 'open'; at: number }
  | { type: 'message'; at: number; data: string }
  | { type: 'stalled'; at: number; silentMs: number }
  | { type: 'retrying'; at: number; attempt: number; delayMs: number; error: TransportError }
  | { type: 'closed'; at: number; reason: WsCloseReason; code?: number; error?: TransportError };

export interface WsOptions {
  url: string;
  /** @default 1000 */
  retryBaseMs?: number;
  /** @default 30000 */
  retryMaxMs?: number;
  /** failed reconnects in a row before giving up @default Infinity */
  maxReconnects?: number;
  /** no message for this long means the socket is dead; 0 disables @default 0 */
  stallTimeoutMs?: number;
  onSignal: (signal: WsSignal) => void;
  /** @default globalThis.WebSocket (Node 20 has none: tests pass the `ws` package) */
  WebSocket?: typeof WebSocket;
}

/** Codes after which trying again may help (RFC 6455 and the IANA registry). */
const RECONNECT_CODES = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1014]);

/** 1008 and the 4000-4999 application range mean auth or policy: no blind loop. */
export function isPolicyClose(code: number): boolean {
  return code === 1008 || (code >= 4000 && code <= 4999);
}

/**
 * A WebSocket that reconnects with full-jitter backoff on going-away and abnormal closes,
 * ends on 1000, and stops with the reason on policy closes. Knows nothing of any platform.
 */
export class WsConnection extends ManagedConnection {
  messagesReceived = 0;
  bytesReceived = 0;
  private socket: WebSocket | undefined;
  private readonly options: Required<Omit<WsOptions, 'WebSocket'>> & { WebSocket: typeof WebSocket };

  constructor(options: WsOptions) {
    super();
    const Impl = options.WebSocket ?? globalThis.WebSocket;
    if (!Impl) throw new Error('No WebSocket implementation available');
    this.options = { retryBaseMs: 1000, retryMaxMs: 30_000, maxReconnects: Number.POSITIVE_INFINITY, stallTimeoutMs: 0, ...options, WebSocket: Impl };
  }

  close(): void {
    if (this.closed) return;
    this.controller.abort();
    this.socket?.close(1000);
  }

  protected async run(): Promise<void> {
    const budget = new ReconnectBudget(this.options.maxReconnects, this.options.retryBaseMs, this.options.retryMaxMs);
    for (;;) {
      this.options.onSignal({ type: 'connecting', at: Date.now(), attempt: budget.attempt });
      const outcome = await this.connectOnce();
      if (this.closed) {
        this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'aborted', code: outcome.code });
        return;
      }
      if (outcome.code === 1000) {
        this.controller.abort();
        this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'ended', code: 1000 });
        return;
      }
      const error: TransportError = {
        kind: 'network',
        status: outcome.code,
        message: `WebSocket closed with ${outcome.code}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.code === 1006 ? ': connection lost or refused' : ''}`,
        retryable: RECONNECT_CODES.has(outcome.code) || !isPolicyClose(outcome.code),
      };
      if (isPolicyClose(outcome.code)) {
        this.controller.abort();
        this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'fatal', code: outcome.code, error: { ...error, retryable: false } });
        return;
      }
      if (browserOffline()) {
        // wait for the network (wake() on 'online') without spending the reconnect budget
        this.options.onSignal({ type: 'retrying', at: Date.now(), attempt: budget.attempt, delayMs: 60_000, error: { ...error, message: 'Offline: waiting for the network' } });
        await this.sleep(60_000);
        if (this.closed) {
          this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'aborted' });
          return;
        }
        continue;
      }
      const delayMs = budget.next(outcome.sawMessage);
      if (delayMs === undefined) {
        this.controller.abort();
        this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'gave-up', code: outcome.code, error });
        return;
      }
      this.options.onSignal({ type: 'retrying', at: Date.now(), attempt: budget.attempt, delayMs, error });
      await this.sleep(delayMs);
      if (this.closed) {
        this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'aborted' });
        return;
      }
    }
  }

  private connectOnce(): Promise<{ code: number; reason: string; sawMessage: boolean }> {
    return new Promise((resolve) => {
      let sawMessage = false;
      let socket: WebSocket;
      try {
        socket = new this.options.WebSocket(this.options.url);
      } catch {
        resolve({ code: 1006, reason: 'invalid URL', sawMessage });
        return;
      }
      this.socket = socket;
      let stalled = false;
      const watchdog = new StallWatchdog(this.options.stallTimeoutMs, () => {
        stalled = true;
        this.options.onSignal({ type: 'stalled', at: Date.now(), silentMs: this.options.stallTimeoutMs });
        if (this.socket === socket) this.socket = undefined;
        socket.close();
        resolve({ code: 1006, reason: 'no message: the socket stalled', sawMessage });
      });
      // Handlers check the socket is still the current one: a replaced socket must stay quiet.
      socket.onopen = () => {
        watchdog.touch();
        if (this.socket === socket) this.options.onSignal({ type: 'open', at: Date.now() });
      };
      socket.onmessage = (event: MessageEvent) => {
        if (this.socket !== socket || this.closed) return;
        watchdog.touch();
        sawMessage = true;
        const data = typeof event.data === 'string' ? event.data : String(event.data);
        this.messagesReceived++;
        this.bytesReceived += data.length;
        this.options.onSignal({ type: 'message', at: Date.now(), data });
      };
      socket.onerror = () => {
        // onclose follows with the code; nothing to do here
      };
      socket.onclose = (event: CloseEvent) => {
        watchdog.stop();
        if (stalled) return;
        if (this.socket === socket) this.socket = undefined;
        resolve({ code: event.code, reason: event.reason, sawMessage });
      };
    });
  }
}
