import { browserOffline, definedOnly, StallWatchdog } from './connection';
import { TransportError } from './error';
import { DEFAULT_RECONNECT, ReconnectingConnection, type AttemptOutcome, type LifecycleSignal, type ReconnectPolicy } from './reconnect';

export type WsSignal =
  | LifecycleSignal
  | { type: 'open'; at: number; url: string }
  /** a text frame; or a binary one, as `binary`, with `data` only describing it */
  | { type: 'message'; at: number; data: string; binary?: Uint8Array }
  | { type: 'stalled'; at: number; silentMs: number };

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
  /** how to try again (a socket never reconnects after a clean close, 1000) @default DEFAULT_RECONNECT */
  reconnect?: Partial<ReconnectPolicy>;
  /** no message for this long means the socket is dead; 0 disables @default 0 */
  stallTimeoutMs?: number;
  onSignal: (signal: WsSignal) => void;
  /** @default globalThis.WebSocket (Node 20 has none: tests pass the `ws` package) */
  WebSocket?: typeof WebSocket;
}

/**
 * What a close code means for the connection (RFC 6455 §7.4 and the IANA registry):
 * - `end`: 1000, the server is done;
 * - `reconnect`: the server or the network may come back (1001 going away, 1005 no status,
 *   1006 abnormal, which is also how a failed handshake shows, 1011 server error, 1012
 *   restart, 1013 try again later, 1014 bad gateway);
 * - `policy`: 1008 and the application range 4000-4999, meaning auth or policy: the operator
 *   must act (a new token);
 * - `stop`: anything else (1002 protocol error, 1003 unsupported data, 1007 invalid payload,
 *   1009 too big, 1010, 1015, 3000-3999): trying the same again will not help.
 */
export function closeCodePolicy(code: number): 'end' | 'reconnect' | 'policy' | 'stop' {
  if (code === 1000) return 'end';
  if ([1001, 1005, 1006, 1011, 1012, 1013, 1014].includes(code)) return 'reconnect';
  if (code === 1008 || (code >= 4000 && code <= 4999)) return 'policy';
  return 'stop';
}

/** A close that means auth or policy (1008, 4000-4999): the socket's 401. */
export const isPolicyClose = (code: number): boolean => closeCodePolicy(code) === 'policy';

/**
 * A WebSocket on the shared reconnect loop: it ends on 1000, reconnects on the codes that may
 * pass, stops with the reason on the others (see closeCodePolicy), tries a platform's other
 * paths while none has opened, and can poll over the socket. Knows nothing of any platform.
 */
export class WsConnection extends ReconnectingConnection {
  messagesReceived = 0;
  bytesReceived = 0;
  private socket: WebSocket | undefined;
  private readonly options: Required<Omit<WsOptions, 'WebSocket' | 'outgoing' | 'handshakeProbeUrl' | 'reconnect'>> &
    Pick<WsOptions, 'outgoing' | 'handshakeProbeUrl'> & { WebSocket: typeof WebSocket };
  private readonly urls: string[];
  private urlIndex = 0;
  private everOpened = false;
  private failedBeforeOpen = 0;
  private closeCode: number | undefined;

  constructor(options: WsOptions) {
    super({ ...DEFAULT_RECONNECT, ...definedOnly(options.reconnect ?? {}) });
    const Impl = options.WebSocket ?? globalThis.WebSocket;
    if (!Impl) throw new Error('No WebSocket implementation available');
    const { reconnect: _policy, ...rest } = options;
    this.options = {
      stallTimeoutMs: 0,
      fallbackUrls: [],
      ...definedOnly(rest),
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

  protected lifecycle(signal: LifecycleSignal): void {
    this.options.onSignal(signal);
  }

  protected lastCloseCode(): number | undefined {
    return this.closeCode;
  }

  protected onFinish(): void {
    this.socket?.close(1000);
  }

  protected async attempt(): Promise<AttemptOutcome> {
    const outcome = await this.connectOnce(this.urls[this.urlIndex]);
    this.closeCode = outcome.code;
    if (!outcome.opened) {
      this.failedBeforeOpen++;
      // a path that never opened may not exist: the next one gets the next attempt
      if (!this.everOpened) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    } else {
      this.failedBeforeOpen = 0;
    }
    if (this.closed) return { kind: 'aborted' };
    const policy = closeCodePolicy(outcome.code);
    if (policy === 'end') return { kind: 'done' };
    const error = new TransportError({
      kind: 'socket',
      closeCode: outcome.code,
      message: `WebSocket closed with ${outcome.code}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.code === 1006 ? ': connection lost or refused' : ''}`,
      retryable: policy === 'reconnect',
    });
    return policy === 'reconnect' ? { kind: 'failed', sawData: outcome.sawMessage, error } : { kind: 'fatal', error };
  }

  /** A socket that never opened on any path while the server answers HTTP was refused, not unreachable. */
  protected async beforeRetry(): Promise<Extract<AttemptOutcome, { kind: 'fatal' }> | undefined> {
    if (this.everOpened || this.failedBeforeOpen < this.urls.length * HANDSHAKE_ROUNDS || browserOffline() || !(await this.serverAnswers())) return undefined;
    return {
      kind: 'fatal',
      error: new TransportError({
        kind: 'handshake',
        closeCode: this.closeCode,
        message: `The server refused the WebSocket handshake ${this.failedBeforeOpen} times while answering HTTP: a rejected or missing token shows this way (HTTP 403)`,
        retryable: false,
      }),
    };
  }

  /** The server answers HTTP at all. */
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
      // binary frames (a platform's preview images) arrive whole, not as Blobs to be read later
      socket.binaryType = 'arraybuffer';
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
        this.messagesReceived++;
        if (typeof event.data === 'string') {
          this.bytesReceived += event.data.length;
          this.options.onSignal({ type: 'message', at: Date.now(), data: event.data });
          return;
        }
        const binary = event.data instanceof ArrayBuffer ? new Uint8Array(event.data) : new Uint8Array(0);
        this.bytesReceived += binary.byteLength;
        this.options.onSignal({ type: 'message', at: Date.now(), data: `[binary frame, ${binary.byteLength} bytes]`, binary });
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
