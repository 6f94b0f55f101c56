import { feedConnection, type RelayConnections } from '../feeds/feedConnection';
import type { JobFeed } from '../feeds/jobFeed';
import type { SourceLedger } from '../feeds/wireLedger';
import type { JobFacts } from '../model/facts';
import type { JobEvent } from '../model/events';
import { isTerminal, jobKey } from '../model/job';
import { LaunchValidationError } from '../protocols/launch';
import type { Source } from '../protocols/source';
import { TabGroup } from '../transports/tabs';
import type { DirectOptions, DirectUpstream } from './direct';
import { ONCE_ONLY, type FeedHolder, type HolderState, type Interest, type Request, type SharedBoardPort, type TabMessage } from './tabsWire';
import type { BoardPort, Upstream } from './upstream';

/** The browser's feed layer in this tab, wired to the board: built when this tab takes the feeds. */
export type DirectFactory = (board: BoardPort, overrides: Partial<DirectOptions>) => DirectUpstream;

/**
 * How long the feed worker gathers events before it sends the tabs what they changed: a frame,
 * so that a job streaming code or steps is sent once a frame rather than once an event.
 */
const WORKER_BATCH_MS = 16;
/** how long a job opened in a tab has its events sent in full, before that tab says it shows it */
const OPENED_LOGGED_MS = 30_000;

/** how long a request waits for the tab holding the feeds */
const REQUEST_TIMEOUT_MS = 15_000;
const JOIN_RETRY_MS = 2000;
/**
 * How long the tab holding the feeds may stay in the background while another tab is in front
 * before it hands them over: the browser runs a hidden tab's timers once a second, and after
 * five minutes once a minute (polls, listings, stall checks), while switching tabs back and
 * forth should not move every connection each time.
 */
export const HAND_OVER_WHEN_HIDDEN_MS = 60_000;
/** how long a tab that handed the feeds over waits for the other to take them before it goes on holding them */
const HAND_OVER_TIMEOUT_MS = 5000;

const shownNow = () => typeof document === 'undefined' || document.visibilityState !== 'hidden';

/**
 * One feed layer for every tab of the browser: the first tab follows the platforms (its
 * DirectUpstream, one stream budget per origin for the whole browser) and sends the events its
 * feeds normalize to the other tabs, which show them and ask it for what they need (a job
 * opened, a launch, a cancel, a token). When that tab closes, the next in line takes the feeds
 * over and resumes every unfinished job after the last wire ids this browser has of it.
 */
export class TabUpstream implements Upstream {
  readonly keepsHistory = true;
  private readonly group: TabGroup<TabMessage>;
  /** the feeds, while this tab holds them */
  private direct: DirectUpstream | undefined;
  /** a tab that only shows: whether it has the board yet (events before it are in the board) */
  private joined = false;
  private joinTimer: ReturnType<typeof setInterval> | undefined;
  private own: Interest = { focused: [], visible: [], shown: shownNow() };
  /** when this tab, holding the feeds, went into the background */
  private hiddenSince: number | undefined;
  private handOverTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly interests = new Map<string, Interest>();
  private state: HolderState = { cancellable: [], streams: [] };
  private stateSent = '';
  private stateTimer: ReturnType<typeof setInterval> | undefined;
  private outbox: JobEvent[] = [];
  private outboxQueued = false;
  private outboxTimer: ReturnType<typeof setTimeout> | undefined;
  /** jobs a tab asked to open, by when: their events go to the tabs in full before the tab's interest says so */
  private readonly opened = new Map<string, number>();
  private interestTimer: ReturnType<typeof setTimeout> | undefined;
  private nextRequest = 0;
  private readonly pending = new Map<
    number,
    { request: Request; resolve(value: unknown): void; reject(error: Error): void; timer: ReturnType<typeof setTimeout> }
  >();
  /**
   * per unfinished job, the wire ids this tab got from the tab holding the feeds: what it
   * resumes after should it take them over before the history has them all
   */
  private readonly received = new Map<string, Set<string>>();
  private stopped = false;

  constructor(
    private readonly board: SharedBoardPort,
    private readonly makeDirect: DirectFactory,
    /** what this instance runs in: a tab, or the feed worker (never in front of the operator, never handing over) */
    private readonly holder: FeedHolder = 'tab',
  ) {
    this.group = new TabGroup<TabMessage>('genwatch-feeds', {
      onLeader: () => this.lead(),
      onLostLead: () => this.stepDown(),
      onMessage: (message) => this.fromTab(message),
    });
  }

  /** whether this tab holds the browser's feeds and writes what they bring to the history */
  get writesHistory(): boolean {
    return this.direct !== undefined;
  }

  /** @returns whether this tab holds the feeds; if not, it has asked the tab that does for the board */
  async start(): Promise<boolean> {
    if (typeof addEventListener === 'function') {
      addEventListener('pagehide', this.leave);
      addEventListener('pageshow', this.back);
      if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.shownOrHidden);
    }
    const leads = await this.group.start();
    if (this.stopped) return false;
    if (leads) this.lead();
    else {
      this.board.onRole('follower');
      this.join();
    }
    return leads;
  }

  private readonly leave = () => {
    this.sendEvents();
    this.group.post({ type: 'leave', tab: this.group.tabId });
  };

  private readonly shownOrHidden = () => {
    const shown = shownNow();
    if (shown === this.own.shown) return;
    this.own = { ...this.own, shown };
    this.hiddenSince = shown ? undefined : Date.now();
    this.sendInterest();
  };

  /** back from the back-forward cache: this tab left, so it joins again and takes the board anew */
  private readonly back = (event: PageTransitionEvent) => {
    if (!event.persisted || this.direct || this.stopped) return;
    this.joined = false;
    this.join();
  };

  private join(): void {
    this.group.post({ type: 'join', tab: this.group.tabId });
    clearInterval(this.joinTimer);
    // the tab that holds the feeds may be taking them over right now
    this.joinTimer = setInterval(() => {
      if (this.joined || this.direct) clearInterval(this.joinTimer);
      else this.group.post({ type: 'join', tab: this.group.tabId });
    }, JOIN_RETRY_MS);
  }

  // ── holding the feeds ──────────────────────────────────────────────────────────────────
  private lead(): void {
    if (this.stopped || this.direct) return;
    clearTimeout(this.handOverTimer);
    clearInterval(this.joinTimer);
    const direct = this.makeDirect(
      {
        known: (key) => this.board.known(key),
        focused: () => this.board.focused(),
        ingest: (events) => {
          this.board.ingest(events);
          if (this.interests.size === 0) return;
          // the arrival sequence is set by now: every tab stores and orders an event alike
          for (const event of events) this.outbox.push(event);
          if (this.outboxQueued) return;
          this.outboxQueued = true;
          // a worker's timers run on time: a frame's events go as one batch
          if (this.holder === 'worker') this.outboxTimer = setTimeout(() => this.sendEvents(), WORKER_BATCH_MS);
          // at the end of this task, not on a timer: a hidden tab's timers run once a second, or a minute
          else queueMicrotask(() => this.sendEvents());
        },
        remove: (key) => {
          this.board.remove(key);
          this.post({ type: 'remove', key });
        },
      },
      {
        onListingState: (health) => {
          this.board.setListing(health);
          this.post({ type: 'listing', health });
        },
        // resumed after what the history holds and what came from the tab that held the feeds
        storedWireIds: async (key) => {
          const stored = await this.board.storedWireIds(key);
          const received = this.received.get(key);
          return received ? [...new Set([...stored, ...received])] : stored;
        },
      },
    );
    this.direct = direct;
    this.joined = true;
    this.board.onRole('leader');
    this.applyInterest();
    this.post({ type: 'leader', tab: this.group.tabId, holder: this.holder });
    this.board.watchAll();
    let ticks = 0;
    this.stateTimer = setInterval(() => {
      this.sendState();
      if (++ticks % 5 === 0) void this.forgetClosedTabs();
      this.handOverIfHidden();
    }, 1000);
    this.hiddenSince = this.own.shown ? undefined : Date.now();
    // asked of the tab that closed and not answered: answered here, but never carried out twice
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      if (ONCE_ONLY.has(waiting.request.call)) waiting.reject(new Error(closedBeforeAnswering(waiting.request)));
      else this.serve(waiting.request).then(waiting.resolve, waiting.reject);
    }
  }

  private sendEvents(): void {
    this.outboxQueued = false;
    clearTimeout(this.outboxTimer);
    if (this.outbox.length === 0) return;
    const events = this.outbox;
    this.outbox = [];
    this.group.post(this.holder === 'worker' ? this.reduced(events) : { type: 'events', events });
  }

  /** A batch as the tabs take it from the feed worker: each changed job once, reduced. */
  private reduced(events: readonly JobEvent[]): TabMessage {
    const logged = this.loggedKeys();
    const keys = new Set<string>();
    const updated = new Set<string>();
    const log: JobEvent[] = [];
    const wire: [string, string][] = [];
    const ended: string[] = [];
    for (const event of events) {
      keys.add(event.key);
      if (event.kind === 'update') {
        updated.add(event.key);
        if (event.update.status && isTerminal(event.update.status)) ended.push(event.key);
      }
      if (event.wireId) wire.push([event.key, event.wireId]);
      if (event.kind !== 'heartbeat' && logged.has(event.key)) log.push(event);
    }
    const jobs = [...keys].flatMap((key) => this.board.current(key) ?? []);
    return { type: 'jobs', batch: { jobs, log, updated: [...updated] }, wire, ended };
  }

  /** The jobs open in some tab, or just asked to open: their logs are kept in full there. */
  private loggedKeys(): Set<string> {
    const keys = new Set(this.own.focused);
    for (const interest of this.interests.values()) for (const key of interest.focused) keys.add(key);
    const now = Date.now();
    for (const [key, at] of this.opened) {
      if (now - at > OPENED_LOGGED_MS) this.opened.delete(key);
      else keys.add(key);
    }
    return keys;
  }

  /** Every message after the events sent before it: a tab sees the board change in order. */
  private post(message: TabMessage): void {
    this.sendEvents();
    this.group.post(message);
  }

  private feedState(): HolderState {
    const direct = this.direct!;
    return {
      cancellable: direct.feeds().flatMap((feed) => (direct.cancellable(feed.key) ? [feed.key] : [])),
      streams: [...direct.streamsByOrigin()],
    };
  }

  private sendState(): void {
    if (!this.direct || this.interests.size === 0) return;
    const state = this.feedState();
    const text = JSON.stringify(state);
    if (text === this.stateSent) return;
    this.stateSent = text;
    this.post({ type: 'state', state });
  }

  /**
   * In the background for a while, with another tab in front: that tab takes the feeds over,
   * resuming every job after what this one sent. Not while this tab holds a stream that is a
   * job itself (a Takoss launch), which cannot be opened again elsewhere.
   */
  private handOverIfHidden(): void {
    const direct = this.direct;
    if (!direct || this.hiddenSince === undefined || Date.now() - this.hiddenSince < HAND_OVER_WHEN_HIDDEN_MS) return;
    const inFront = [...this.interests].find(([, interest]) => interest.shown)?.[0];
    if (!inFront || direct.feeds().some((feed) => feed.pinned && feed.active)) return;
    this.stepDown();
    this.post({ type: 'hand-over', to: inFront });
    // that tab may have closed before it could take over: this one, still holding the lock, goes on
    this.handOverTimer = setTimeout(() => {
      if (this.group.leader && !this.direct) this.lead();
    }, HAND_OVER_TIMEOUT_MS);
  }

  /** This tab no longer holds the feeds (it handed them over, or another tab took them): it shows another's. */
  private stepDown(): void {
    if (!this.direct) return;
    // nothing more arrives here, and what arrived has gone to the others before the next tab starts
    this.direct.stop();
    this.direct = undefined;
    this.sendEvents();
    clearInterval(this.stateTimer);
    this.interests.clear();
    this.hiddenSince = undefined;
    this.board.onRole('follower');
  }

  /** A tab that crashed or was killed said no goodbye: what it showed stops counting. */
  private async forgetClosedTabs(): Promise<void> {
    if (this.interests.size === 0) return;
    const open = await this.group.openTabs();
    let changed = false;
    for (const tab of this.interests.keys()) if (!open.has(tab)) changed = this.interests.delete(tab) || changed;
    if (changed) this.applyInterest();
  }

  /** The feeds serve what every tab shows: each tab's open job first, then every tab's rows. */
  private applyInterest(): void {
    if (!this.direct) return;
    const all = [this.own, ...this.interests.values()];
    this.direct.focusAll(new Set(all.flatMap((interest) => interest.focused)));
    this.direct.setVisible(new Set(all.flatMap((interest) => interest.visible)));
  }

  private async serve(request: Request): Promise<unknown> {
    const direct = this.direct!;
    // this tab's own copy of a source, with the token it holds, before the asking tab's
    const sourceOf = (source: Source) => this.board.sourceFor(source);
    switch (request.call) {
      case 'watch':
        return direct.watchSource(sourceOf(request.source), request.unfinished);
      case 'open': {
        const source = sourceOf(request.source);
        const key = jobKey(source.id, request.jobId);
        this.opened.set(key, Date.now());
        direct.open(source, request.jobId, { needsHistory: request.needsHistory, unseen: request.unseen, seen: this.board.storedWireIds(key) });
        // the asking tab reads the history next: what is written of the job is there
        await this.board.flushHistory();
        return this.board.eventsOf(key);
      }
      case 'retry':
        return direct.retry(sourceOf(request.source), request.jobId);
      case 'cancel':
        return direct.cancel(request.key);
      case 'launch':
        return direct.launch(sourceOf(request.source), request.values);
      case 'followUp':
        return direct.followUp(sourceOf(request.source), request.parentJobId, request.instruction);
      case 'renewToken':
        return direct.renewToken(request.sourceId, request.token, { keep: request.keep });
      case 'connections': {
        const now = Date.now();
        return direct.feeds().map((feed) => feedConnection(feed, this.board.known(feed.key), now));
      }
      case 'ledger':
        return this.board.ledger(request.sourceId);
      case 'wake':
        return direct.wake();
    }
  }

  // ── showing another tab's feeds ────────────────────────────────────────────────────────
  private ask<T>(request: Request): Promise<T> {
    if (this.direct) return this.serve(request) as Promise<T>;
    const id = this.nextRequest++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('The tab holding the platform connections did not answer. Reload this tab, or close the others.'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { request, resolve: resolve as (value: unknown) => void, reject, timer });
      this.group.post({ type: 'request', tab: this.group.tabId, id, request });
    });
  }

  private sendInterest(): void {
    if (this.direct) return this.applyInterest();
    clearTimeout(this.interestTimer);
    // a scroll moves the rows on screen many times a second: the feeds hear of it once
    this.interestTimer = setTimeout(() => this.group.post({ type: 'interest', tab: this.group.tabId, interest: this.own }), 50);
  }

  private fromTab(message: TabMessage): void {
    const mine = (to: string) => to === this.group.tabId;
    switch (message.type) {
      case 'join':
        if (!this.direct) return;
        this.interests.set(message.tab, this.interests.get(message.tab) ?? { focused: [], visible: [], shown: false });
        this.sendEvents();
        this.stateSent = '';
        this.group.post({
          type: 'board',
          to: message.tab,
          jobs: this.board.jobs(),
          state: this.feedState(),
          listings: this.board.listings(),
          holder: this.holder,
        });
        return;
      case 'board':
        if (!mine(message.to) || this.joined) return;
        this.joined = true;
        clearInterval(this.joinTimer);
        this.state = message.state;
        this.board.onRole('follower', message.holder);
        for (const health of message.listings) this.board.setListing(health);
        this.board.adopt(message.jobs);
        this.group.post({ type: 'interest', tab: this.group.tabId, interest: this.own });
        return;
      case 'events':
        if (this.direct || !this.joined) return; // before the board: the board has them
        this.remember(message.events);
        this.board.ingest(message.events);
        return;
      case 'jobs':
        if (this.direct || !this.joined) return;
        this.rememberWire(message.wire, message.ended);
        this.board.adoptReduced(message.batch);
        return;
      case 'state':
        if (!this.direct) this.state = message.state;
        return;
      case 'listing':
        if (!this.direct) this.board.setListing(message.health);
        return;
      case 'remove':
        if (!this.direct) this.board.remove(message.key);
        return;
      case 'interest':
        if (!this.direct) return;
        this.interests.set(message.tab, message.interest);
        this.applyInterest();
        return;
      case 'leave':
        if (this.direct && this.interests.delete(message.tab)) this.applyInterest();
        return;
      case 'request':
        if (!this.direct) return;
        this.serve(message.request).then(
          (value) => this.post({ type: 'reply', to: message.tab, id: message.id, value }),
          (error: Error) =>
            this.post({
              type: 'reply',
              to: message.tab,
              id: message.id,
              error: { message: error.message, fields: error instanceof LaunchValidationError ? error.fields : undefined },
            }),
        );
        return;
      case 'reply': {
        const waiting = mine(message.to) ? this.pending.get(message.id) : undefined;
        if (!waiting) return;
        this.pending.delete(message.id);
        clearTimeout(waiting.timer);
        if (!message.error) waiting.resolve(message.value);
        else waiting.reject(message.error.fields ? new LaunchValidationError(message.error.fields) : new Error(message.error.message));
        return;
      }
      case 'hand-over':
        if (mine(message.to)) this.group.takeOver();
        return;
      case 'leader':
        clearTimeout(this.handOverTimer);
        if (this.direct) return;
        this.board.onRole('follower', message.holder);
        if (!this.joined) this.join();
        this.group.post({ type: 'interest', tab: this.group.tabId, interest: this.own });
        // asked of the tab that closed: the new one is asked again, except what may have been done
        for (const [id, waiting] of this.pending) {
          if (ONCE_ONLY.has(waiting.request.call)) {
            this.pending.delete(id);
            clearTimeout(waiting.timer);
            waiting.reject(new Error(closedBeforeAnswering(waiting.request)));
          } else this.group.post({ type: 'request', tab: this.group.tabId, id, request: waiting.request });
        }
        return;
    }
  }

  /** the wire ids of unfinished jobs, to resume after should this tab take the feeds over */
  private remember(events: readonly JobEvent[]): void {
    const wire: [string, string][] = [];
    const ended: string[] = [];
    for (const event of events) {
      if (event.kind === 'update' && event.update.status && isTerminal(event.update.status)) ended.push(event.key);
      else if (event.wireId) wire.push([event.key, event.wireId]);
    }
    this.rememberWire(wire, ended);
  }

  private rememberWire(wire: readonly [string, string][], ended: readonly string[]): void {
    for (const [key, wireId] of wire) {
      let ids = this.received.get(key);
      if (!ids) this.received.set(key, (ids = new Set()));
      ids.add(wireId);
    }
    for (const key of ended) this.received.delete(key);
  }

  // ── Upstream ───────────────────────────────────────────────────────────────────────────
  watchSource(source: Source, unfinished: readonly string[]): void {
    if (this.direct) return this.direct.watchSource(source, unfinished);
    if (!source.replay) void this.ask({ call: 'watch', source: { ...source }, unfinished: [...unfinished] }).catch(() => undefined);
  }

  open(source: Source, jobId: string, wanted: { needsHistory: boolean; unseen: boolean; seen: Promise<string[]> }): void {
    if (this.direct) return this.direct.open(source, jobId, wanted);
    const key = jobKey(source.id, jobId);
    void wanted.seen
      .then(() => this.ask<JobEvent[]>({ call: 'open', source: { ...source }, jobId, needsHistory: wanted.needsHistory, unseen: wanted.unseen }))
      .then((events) => this.board.mergeLog(key, events))
      .catch(() => undefined);
  }

  follows(key: string): boolean {
    return this.direct?.follows(key) ?? false;
  }

  focus(key: string | undefined): void {
    this.own = { ...this.own, focused: key === undefined ? [] : [key] };
    this.sendInterest();
  }

  close(): void {}

  setVisible(keys: ReadonlySet<string>): void {
    this.own = { ...this.own, visible: [...keys] };
    this.sendInterest();
  }

  retry(source: Source, jobId: string): void {
    void this.ask({ call: 'retry', source: { ...source }, jobId }).catch(() => undefined);
  }

  cancellable(key: string): boolean {
    return this.direct ? this.direct.cancellable(key) : this.state.cancellable.includes(key);
  }

  async cancel(key: string): Promise<void> {
    await this.ask({ call: 'cancel', key });
  }

  launch(source: Source, values: unknown): Promise<{ jobId: string }> {
    return this.ask({ call: 'launch', source: { ...source }, values });
  }

  followUp(source: Source, parentJobId: string, instruction: string): Promise<string> {
    return this.ask({ call: 'followUp', source: { ...source }, parentJobId, instruction });
  }

  async renewToken(sourceId: string, token: string, options: { keep?: boolean }): Promise<void> {
    // kept here too: this tab resumes with it should it take the feeds over
    if (!this.direct) this.board.setToken(sourceId, token, options);
    await this.ask({ call: 'renewToken', sourceId, token, keep: options.keep });
  }

  forget(key: string): void {
    this.received.delete(key);
    this.direct?.forget(key);
  }

  wake(): void {
    if (this.direct) this.direct.wake();
    else void this.ask({ call: 'wake' }).catch(() => undefined);
  }

  stop(): void {
    this.leave();
    this.stopped = true;
    if (typeof removeEventListener === 'function') {
      removeEventListener('pagehide', this.leave);
      removeEventListener('pageshow', this.back);
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.shownOrHidden);
    }
    clearInterval(this.joinTimer);
    clearInterval(this.stateTimer);
    clearTimeout(this.interestTimer);
    clearTimeout(this.outboxTimer);
    clearTimeout(this.handOverTimer);
    for (const waiting of this.pending.values()) clearTimeout(waiting.timer);
    this.pending.clear();
    this.direct?.stop();
    this.group.stop();
  }

  feeds(): JobFeed[] {
    return this.direct?.feeds() ?? [];
  }

  streamsByOrigin(): Map<string, number> {
    return this.direct?.streamsByOrigin() ?? new Map(this.state.streams);
  }

  /** The feeds of the tab that holds them, as the connections page shows them (none while this tab holds them). */
  async connections(): Promise<RelayConnections[]> {
    if (this.direct) return [];
    const feeds = await this.ask<RelayConnections['feeds']>({ call: 'connections' });
    return [{ relayId: '', at: Date.now(), feeds, budget: [], listings: [] }];
  }

  /** What the tab holding the feeds read from a source, for the protocol inspector. */
  ledgerOf(sourceId: string): Promise<SourceLedger> | undefined {
    return this.direct ? undefined : this.ask({ call: 'ledger', sourceId });
  }

  async insightsFacts(): Promise<JobFacts[]> {
    return [];
  }
}

function closedBeforeAnswering(request: Request): string {
  const what = request.call === 'cancel' ? 'cancel' : 'start';
  return `The tab holding the platform connections closed before it answered: check the board before you ${what} the job again.`;
}
