/**
 * The tabs of one browser profile (one origin) as a group with one leader: the tab holding a
 * Web Lock, which every other tab queues for, so that the next in line takes over the moment
 * the leader's tab closes (the browser releases its locks then). Messages go to every other tab
 * of the group over a BroadcastChannel, in the order each tab sent them.
 */
export interface TabGroupHandlers<M> {
  /** this tab now leads: at once when it is the first, else when the leader went away or handed over */
  onLeader(): void;
  /** another tab took the lead from this one (`takeOver`): this tab is in line again */
  onLostLead?(): void;
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
  /** withdraws this tab's place in line for the lead */
  private inLine: AbortController | undefined;
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

  private get leaderLock(): string {
    return `${this.name}:leader`;
  }

  /** @returns whether this tab leads now; if not, it is in line to, and `onLeader` says when it does */
  async start(): Promise<boolean> {
    // a lock of this tab's own, which says it is open: the browser lets go of it even when the tab crashes
    await new Promise<void>((granted) => {
      navigator.locks
        .request(`${this.name}:tab:${this.tabId}`, () => {
          granted();
          return new Promise<void>((resolve) => (this.releaseTabLock = resolve));
        })
        .catch(() => granted());
    });
    const leadsNow = await new Promise<boolean>((decided) => this.ask({ ifAvailable: true }, decided));
    if (!leadsNow && !this.stopped) this.getInLine();
    return leadsNow;
  }

  /**
   * Asks for the leader's lock; `granted` says whether this tab holds it. Held until this tab
   * stops or closes, or another takes it over, and then this tab gets in line again.
   */
  private ask(options: LockOptions, granted: (held: boolean) => void): void {
    let held = false;
    navigator.locks
      .request(this.leaderLock, options, (lock) => {
        if (!lock || this.stopped) return granted(false);
        held = true;
        this.leading = true;
        granted(true);
        return new Promise<void>((resolve) => (this.releaseLock = resolve));
      })
      .catch(() => {
        if (!held) return granted(false); // withdrawn from the line, or stopped
        // taken over by another tab
        this.leading = false;
        this.releaseLock = undefined;
        if (this.stopped) return;
        this.handlers.onLostLead?.();
        this.getInLine();
      });
  }

  private getInLine(): void {
    this.inLine = new AbortController();
    this.ask({ signal: this.inLine.signal }, (held) => {
      if (held) this.handlers.onLeader();
    });
  }

  /** Takes the lead at once, from the tab that holds it (which the tab asked for, by handing over). */
  takeOver(): void {
    if (this.leading || this.stopped) return;
    this.inLine?.abort();
    this.ask({ steal: true }, (held) => {
      if (held) this.handlers.onLeader();
    });
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
    this.inLine?.abort();
    this.releaseLock?.();
    this.releaseTabLock?.();
    this.channel.close();
  }
}
