import { abortableSleep } from './http';

/** Start once, close for good: the life cycle every streaming transport shares. */
export abstract class ManagedConnection {
  protected readonly controller = new AbortController();
  private started = false;

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  start(): this {
    if (!this.started) {
      this.started = true;
      void this.run();
    }
    return this;
  }

  protected abstract run(): Promise<void>;

  private waking: AbortController | undefined;

  /** Waits out a backoff; `wake()` or `close()` ends the wait early. */
  protected async sleep(ms: number): Promise<void> {
    const waking = new AbortController();
    this.waking = waking;
    const onClose = () => waking.abort();
    this.controller.signal.addEventListener('abort', onClose, { once: true });
    await abortableSleep(ms, waking.signal);
    this.controller.signal.removeEventListener('abort', onClose);
    this.waking = undefined;
  }

  /** Try now instead of waiting out the backoff (the network is back, the page is visible). */
  wake(): void {
    this.waking?.abort();
  }
}

/** The browser says it has no network: reconnecting now would only burn the retry budget. */
export function browserOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

/** Calls `onStall` when `touch()` has not been called for `ms`; `ms` of 0 or less disables it. */
export class StallWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {}

  touch(): void {
    if (!(this.ms > 0)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onStall, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The options that were given a value: an explicit `undefined` must not wipe out a default. */
export function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

/**
 * Lets the page run (input, rendering, timers) before going on: a stream whose bytes are
 * already buffered resolves every read at once, and a loop of those never lets the page
 * answer a key. scheduler.yield where the browser has it, else a message to oneself, which
 * (unlike a timer) is not slowed down in a background tab.
 */
export function yieldTurn(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
