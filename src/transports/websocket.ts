import { browserOffline, definedOnly, ManagedConnection, ReconnectBudget, StallWatchdog } from './connection';
import type { TransportError } from './http';

export type WsCloseReason = 'ended' | 'aborted' | 'gave-up' | 'fatal';

export type WsSignal =
  | { type: 'connecting'; at: number; attempt: number }
  | { type: 'open'; at: number; url: string }
  | { type: 'message'; at: number; data: string }
  | { type: 'stalled'; at: number; silentMs: number }
  | { type: 'retrying'; at: number; attempt: number; delayMs: number; error: TransportError }
  | { type: 'closed'; at: number; reason: WsCloseReason; code?: number; error?: TransportError };

/** Failures before any open, on every path twice, before a refused handshake is concluded. */
const HANDSHAKE_ROUNDS = 2;

export interface WsOptions {
  url: string;
  /** other paths the socket may live on: tried in turn while none has opened yet @default [] */
  fallbackUrls?: string[];
  /** messages to send: once on every open, and on an interval while open (a progress poll) */
  outgoing?: { onOpen?: string[]; every?: { text: string; ms: number } };
  /**
   * An http(s) URL of the same server. A browser sees a refused handshake (HTTP 403) only as
   * a socket that never opens; when every path has failed twice that way while this URL
   * answers HTTP, the server is up and refusing: the connection stops instead of looping.
   */
  handshakeProbeUrl?: string;
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
  private readonly options: Required<Omit<WsOptions, 'WebSocket' | 'outgoing' | 'handshakeProbeUrl'>> &
    Pick<WsOptions, 'outgoing' | 'handshakeProbeUrl'> & { WebSocket: typeof WebSocket };
  private readonly urls: string[];
  private urlIndex = 0;
  private everOpened = false;
  private failedBeforeOpen = 0;

  constructor(options: WsOptions) {
    super();
    const Impl = options.WebSocket ?? globalThis.WebSocket;
    if (!Impl) throw new Error('No WebSocket implementation available');
    this.options = {
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      maxReconnects: Number.POSITIVE_INFINITY,
      stallTimeoutMs: 0,
      fallbackUrls: [],
      ...definedOnly(options),
      WebSocket: Impl,
    };
    this.urls = [options.url, ...(options.fallbackUrls ?? [])];
  }

  close(): void {
    if (this.closed) return;
    this.controller.abort();
    this.socket?.close(1000);
  }

  /** Sends on the open socket; false when there is none. */
  send(text: string): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) return false;
    socket.send(text);
    return true;
  }

  /** The server answers HTTP: a socket that never opens was refused, not unreachable. */
  private async serverAnswers(): Promise<boolean> {
    const url = this.options.handshakeProbeUrl;
    if (!url) return false;
    try {
      // no-cors: any answer at all proves the server is up; its CORS headers do not matter here
      await fetch(url, { method: 'GET', mode: 'no-cors', signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(5000)]) });
      return true;
    } catch {
      return false;
    }
  }

  protected async run(): Promise<void> {
    const budget = new ReconnectBudget(this.options.maxReconnects, this.options.retryBaseMs, this.options.retryMaxMs);
    for (;;) {
      this.options.onSignal({ type: 'connecting', at: Date.now(), attempt: budget.attempt });
      const outcome = await this.connectOnce(this.urls[this.urlIndex]);
      if (!outcome.opened) {
        this.failedBeforeOpen++;
        // a path that never opened may not exist: the next one gets the next attempt
        if (!this.everOpened) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      } else {
        this.failedBeforeOpen = 0;
      }
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
      if (!this.everOpened && this.failedBeforeOpen >= this.urls.length * HANDSHAKE_ROUNDS && !browserOffline() && (await this.serverAnswers())) {
        if (this.closed) {
          this.options.onSignal({ type: 'closed', at: Date.now(), reason: 'aborted' });
          return;
        }
        this.controller.abort();
        this.options.onSignal({
          type: 'closed',
          at: Date.now(),
          reason: 'fatal',
          code: outcome.code,
          error: {
            kind: 'handshake',
            message: `The server refused the WebSocket handshake ${this.failedBeforeOpen} times while answering HTTP: a rejected or missing token shows this way (HTTP 403)`,
            retryable: false,
          },
        });
        return;
      }
      if (browserOffline()) {
        // wait for the network (wake() on 'online') without spending the reconnect budget
        this.options.onSignal({
          type: 'retrying',
          at: Date.now(),
          attempt: budget.attempt,
          delayMs: 60_000,
          error: { ...error, message: 'Offline: waiting for the network' },
        });
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

  private connectOnce(url: string): Promise<{ code: number; reason: string; sawMessage: boolean; opened: boolean }> {
    return new Promise((resolve) => {
      let sawMessage = false;
      let opened = false;
      let socket: WebSocket;
      try {
        socket = new this.options.WebSocket(url);
      } catch {
        resolve({ code: 1006, reason: 'invalid URL', sawMessage, opened });
        return;
      }
      this.socket = socket;
      let stalled = false;
      let ticker: ReturnType<typeof setInterval> | undefined;
      const watchdog = new StallWatchdog(this.options.stallTimeoutMs, () => {
        stalled = true;
        clearInterval(ticker);
        this.options.onSignal({ type: 'stalled', at: Date.now(), silentMs: this.options.stallTimeoutMs });
        if (this.socket === socket) this.socket = undefined;
        socket.close();
        resolve({ code: 1006, reason: 'no message: the socket stalled', sawMessage, opened });
      });
      // Handlers check the socket is still the current one: a replaced socket must stay quiet.
      socket.onopen = () => {
        watchdog.touch();
        if (this.socket !== socket) return;
        opened = true;
        this.everOpened = true;
        this.options.onSignal({ type: 'open', at: Date.now(), url });
        const outgoing = this.options.outgoing;
        for (const text of outgoing?.onOpen ?? []) socket.send(text);
        if (outgoing?.every) {
          const { text, ms } = outgoing.every;
          ticker = setInterval(() => {
            if (socket.readyState === 1 && this.socket === socket) socket.send(text);
          }, ms);
        }
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
        clearInterval(ticker);
        if (stalled) return;
        if (this.socket === socket) this.socket = undefined;
        resolve({ code: event.code, reason: event.reason, sawMessage, opened });
      };
    });
  }
}
