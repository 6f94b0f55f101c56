/**
 * The tabs of one browser profile (one origin) as a group with one leader: the tab holding a
 * Web Lock, which every other tab queues for, so that the next in line takes over the moment
 * the leader's tab closes (the browser releases its locks then). Messages go to every other tab
 * of the group over a BroadcastChannel, in the order each tab sent them.
 */
export interface TabGroupHandlers<M> {
  /** this tab now leads: at once when it is the first, else when the leader went away */
  onLeader(): void;
  onMessage(message: M): void;
}

/** Whether this browser can group its tabs (a test DOM or an old browser cannot: each tab is on its own). */
export function tabGroupsAvailable(): boolean {
  return typeof navigator !== 'undefined' && navigator.locks !== undefined && typeof BroadcastChannel === 'function';
}

export class TabGroup<M> {
  readonly tabId = crypto.randomUUID();
  private readonly channel: BroadcastChannel;
  private releaseLock: (() => void) | undefined;
  private releaseTabLock: (() => void) | undefined;
  private readonly abort = new AbortController();
  private leading = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly handlers: TabGroupHandlers<M>,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (message: MessageEvent<M>) => {
      if (!this.stopped) handlers.onMessage(message.data);
    };
  }

  get leader(): boolean {
    return this.leading;
  }

  /** @returns whether this tab leads now; if not, it is in line to, and `onLeader` says when it does */
  async start(): Promise<boolean> {
    const lock = `${this.name}:leader`;
    // held until this tab stops or closes
    const hold = () => new Promise<void>((resolve) => (this.releaseLock = resolve));
    // a lock of this tab's own, which says it is open: the browser lets go of it even when the tab crashes
    await new Promise<void>((granted) => {
      navigator.locks
        .request(`${this.name}:tab:${this.tabId}`, () => {
          granted();
          return new Promise<void>((resolve) => (this.releaseTabLock = resolve));
        })
        .catch(() => granted());
    });
    const leadsNow = await new Promise<boolean>((decided) => {
      navigator.locks
        .request(lock, { ifAvailable: true }, (held) => {
          if (!held || this.stopped) return decided(false);
          this.leading = true;
          decided(true);
          return hold();
        })
        .catch(() => decided(false));
    });
    if (!leadsNow && !this.stopped) {
      navigator.locks
        .request(lock, { signal: this.abort.signal }, () => {
          if (this.stopped) return undefined;
          this.leading = true;
          this.handlers.onLeader();
          return hold();
        })
        .catch(() => undefined); // aborted: this tab left the group
    }
    return leadsNow;
  }

  /** The tabs of the group that are still open, by their `tabId` (a tab that crashed said no goodbye). */
  async openTabs(): Promise<Set<string>> {
    const prefix = `${this.name}:tab:`;
    const { held = [] } = await navigator.locks.query();
    return new Set(held.flatMap((lock) => (lock.name?.startsWith(prefix) ? [lock.name.slice(prefix.length)] : [])));
  }

  post(message: M): void {
    if (!this.stopped) this.channel.postMessage(message);
  }

  /** Leaves the group: the next tab in line leads. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.releaseLock?.();
    this.releaseTabLock?.();
    this.channel.close();
  }
}
