import * as v from 'valibot';
import type { Job } from '../model/job';
import { LaunchValidationError } from '../protocols/launch';
import { SourceSchema, type Source } from '../protocols/source';
import { readRelayBody, readRelayFrame, RELAY_FRAME, type RelayEvent } from '../protocols/relayWire';
import { describeIssues } from '../protocols/wire';
import { SseConnection, type SseSignal } from '../transports/sse';
import { TabGroup, tabGroupsAvailable } from '../transports/tabs';
import { RelayConnectionsSchema, type RelayConnections } from './feedConnection';
import type { JobFacts } from '../model/facts';

const RelayConnectionsAnswer = v.object({ relays: v.array(RelayConnectionsSchema) });

/** Where a dashboard finds its relay: `/relay.json` on its own origin. The token is never put in a URL. */
const RelayUrl = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//, 'url must be http(s)'));
export const RelayConfigSchema = v.object({
  url: RelayUrl,
  /** other relays on the same NATS, tried in turn when the one in use stops answering */
  fallbackUrls: v.optional(v.array(RelayUrl)),
  token: v.pipe(v.string(), v.minLength(1)),
});
export type RelayConfig = v.InferOutput<typeof RelayConfigSchema>;

/** The relay as the connections page shows it. */
export interface RelayHealth {
  url: string;
  state: 'connecting' | 'live' | 'reconnecting' | 'down';
  detail?: string;
  reconnects: number;
  events: number;
  /** relay id and log kind, from its hello */
  relayId?: string;
  log?: string;
  /** arrival of the last frame, ms since the epoch */
  lastFrameAt?: number;
  /** platform time to arrival of the newest event, ms */
  lagMs?: number;
  /** frames, jobs and events from the relay that did not parse: dropped, each on its own */
  invalid: number;
  /** why the latest of them was dropped */
  invalidDetail?: string;
  /**
   * the browser's tabs share one stream to the relay: this tab holds it (`leader`), or gets its
   * frames from the tab that does (`follower`); absent where the browser cannot share
   */
  tabRole?: 'leader' | 'follower';
}

export interface RelayInterest {
  open: readonly string[];
  visible: readonly string[];
}

export interface RelayLinkHandlers {
  /** the board as the relay has it now (a first visit, or a resume older than its log) */
  onSnapshot(jobs: Job[]): void;
  onEvents(events: RelayEvent[]): void;
  onHealth(health: RelayHealth): void;
  /** a new connection after a drop: what is open should be read again whole */
  onReconnected(): void;
  /** the board as this tab has it, for a tab that joins the browser's shared stream */
  board?(): Job[];
}

/** What the tabs sharing one relay stream tell each other. */
type TabMessage =
  /** a frame of the stream, from the tab that holds it */
  | { type: 'frame'; event: string; data: string; at: number; lastEventId: string }
  | { type: 'health'; health: RelayHealth }
  /** a new tab asks for the board */
  | { type: 'join'; tab: string }
  | { type: 'board'; to: string; jobs: Job[]; health: RelayHealth; connection: string; lastEventId: string }
  | { type: 'interest'; tab: string; interest: RelayInterest; ack: number }
  | { type: 'interest-sent'; to: string; ack: number }
  | { type: 'leave'; tab: string }
  /** a tab took over the stream: every other tab tells it what it shows */
  | { type: 'leader'; tab: string };

const union = (lists: (readonly string[])[]) => [...new Set(lists.flat())];

/** A promise and the function that settles it (Node 20 has no Promise.withResolvers). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

/**
 * The dashboard's one stream to a relay (SSE over POST, resumed with Last-Event-ID), its
 * subscriptions, and the relay's JSON API. Platforms and their tokens are the relay's business.
 */
export class RelayLink {
  private sse: SseConnection | undefined;
  private connection = '';
  private interest: RelayInterest = { open: [], visible: [] };
  private interestTimer: ReturnType<typeof setTimeout> | undefined;
  private hellos = 0;
  /** settles with the hello of the stream in use: subscriptions name its connection */
  private hello = signal();
  /** the relays to try, and the one in use: any relay on the NATS serves any viewer */
  private readonly bases: string[];
  private current = 0;
  readonly health: RelayHealth;
  /** the browser's other tabs, when they share this stream */
  private group: TabGroup<TabMessage> | undefined;
  /** what each other tab shows, when this tab holds the stream */
  private readonly tabInterests = new Map<string, RelayInterest>();
  /** the tabs that joined this tab's stream and have not left: frames are passed on only when there are some */
  private readonly sharedWith = new Set<string>();
  /** the stream's last event id, to resume from when this tab takes the stream over */
  private lastEventId = '';
  private acks = 0;
  private readonly pendingAcks = new Map<number, () => void>();
  private stopped = false;
  private closedTabsTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly config: RelayConfig,
    private readonly handlers: RelayLinkHandlers,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    /** whether this browser's tabs share one stream (where the browser can) */
    private readonly share = tabGroupsAvailable(),
  ) {
    this.bases = [config.url, ...(config.fallbackUrls ?? [])];
    this.health = { url: config.url, state: 'connecting', reconnects: 0, events: 0, invalid: 0 };
  }

  private get following(): boolean {
    return this.group !== undefined && !this.group.leader;
  }

  private get base(): string {
    return this.bases[this.current];
  }

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.config.token}`, 'Content-Type': 'application/json' };
  }

  private report(change: Partial<RelayHealth>): void {
    Object.assign(this.health, change);
    this.handlers.onHealth({ ...this.health });
    // the other tabs count frames themselves: they are told what only this tab sees
    if (this.group?.leader && this.sharedWith.size && ('state' in change || 'url' in change || 'reconnects' in change)) {
      this.group.post({ type: 'health', health: { ...this.health } });
    }
  }

  /**
   * Connects: one stream per browser where its tabs can share one (the first tab holds it, the
   * next in line takes over when that tab closes), else one of this tab's own.
   */
  start(): void {
    if (!this.share) return this.openStream();
    const group = new TabGroup<TabMessage>(`genwatch-relay ${this.config.url}`, {
      onLeader: () => this.lead(),
      onMessage: (message) => this.fromTab(message),
    });
    this.group = group;
    void group.start().then((leads) => {
      if (this.stopped) return;
      if (leads) this.lead();
      else {
        this.report({ tabRole: 'follower' });
        group.post({ type: 'join', tab: group.tabId });
      }
    });
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.leave);
  }

  private readonly leave = () => this.group?.post({ type: 'leave', tab: this.group.tabId });

  /** This tab holds the browser's stream: from where the tab before it left off, if any. */
  private lead(): void {
    if (this.stopped || this.sse) return;
    this.report({ tabRole: 'leader' });
    this.openStream();
    this.group?.post({ type: 'leader', tab: this.group.tabId });
    if (this.group) this.closedTabsTimer = setInterval(() => void this.forgetClosedTabs(), 5000);
  }

  /** A tab that crashed or was killed said no goodbye: its rows and open jobs stop counting. */
  private async forgetClosedTabs(): Promise<void> {
    if (!this.group || this.sharedWith.size === 0) return;
    const open = await this.group.openTabs();
    let interestChanged = false;
    for (const tab of [...this.sharedWith]) {
      if (open.has(tab)) continue;
      this.sharedWith.delete(tab);
      interestChanged = this.tabInterests.delete(tab) || interestChanged;
    }
    if (interestChanged) void this.sendInterest();
  }

  private fromTab(message: TabMessage): void {
    const group = this.group!;
    const mine = (to: string) => to === group.tabId;
    switch (message.type) {
      case 'frame':
        if (group.leader) return;
        this.lastEventId = message.lastEventId;
        this.onMessage(message.event, message.data, message.at);
        return;
      case 'health':
        if (group.leader) return;
        this.report({ state: message.health.state, detail: message.health.detail, url: message.health.url, reconnects: message.health.reconnects });
        return;
      case 'join':
        if (!group.leader) return;
        this.sharedWith.add(message.tab);
        group.post({
          type: 'board',
          to: message.tab,
          jobs: this.handlers.board?.() ?? [],
          health: { ...this.health },
          connection: this.connection,
          lastEventId: this.lastEventId,
        });
        return;
      case 'board':
        if (!mine(message.to) || group.leader) return;
        this.lastEventId = message.lastEventId;
        this.report({
          state: message.health.state,
          detail: message.health.detail,
          relayId: message.health.relayId,
          log: message.health.log,
          url: message.health.url,
        });
        this.handlers.onSnapshot(message.jobs);
        if (message.connection) {
          this.connection = message.connection;
          this.hellos = Math.max(this.hellos, 1);
          this.hello.resolve();
        }
        void this.sendInterest();
        return;
      case 'interest':
        if (!group.leader) return;
        this.sharedWith.add(message.tab);
        this.tabInterests.set(message.tab, message.interest);
        void this.sendInterest().then(() => group.post({ type: 'interest-sent', to: message.tab, ack: message.ack }));
        return;
      case 'interest-sent':
        if (!mine(message.to)) return;
        this.pendingAcks.get(message.ack)?.();
        this.pendingAcks.delete(message.ack);
        return;
      case 'leave':
        if (!group.leader) return;
        this.sharedWith.delete(message.tab);
        if (this.tabInterests.delete(message.tab)) void this.sendInterest();
        return;
      case 'leader':
        if (group.leader) return;
        // a tab that joined while no tab held the stream has no board yet
        if (!this.connection) group.post({ type: 'join', tab: group.tabId });
        else void this.sendInterest();
        return;
      default:
        return;
    }
  }

  private openStream(): void {
    this.sse = new SseConnection({
      lastEventId: this.lastEventId || undefined,
      url: `${this.base}/v1/stream`,
      // every attempt goes to the relay in use; a failure moves to the next one, and the
      // Last-Event-ID (the shared log's sequence) resumes there
      prepare: async () => ({ url: `${this.base}/v1/stream` }),
      method: 'POST',
      headers: () => this.headers(),
      body: '{}',
      // the relay pings every 15 s
      stallTimeoutMs: 45_000,
      reconnect: { baseMs: 500, maxMs: 10_000 },
      fetch: this.fetchImpl,
      onSignal: (signal) => this.onSignal(signal),
    }).start();
  }

  stop(): void {
    this.stopped = true;
    this.sse?.close();
    clearTimeout(this.interestTimer);
    clearInterval(this.closedTabsTimer);
    this.leave();
    this.group?.stop();
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.leave);
  }

  wake(): void {
    this.sse?.wake();
  }

  private onSignal(signal: SseSignal): void {
    switch (signal.type) {
      case 'open':
        this.report({ state: 'live', detail: undefined });
        return;
      case 'retrying':
        this.disconnected();
        this.current = (this.current + 1) % this.bases.length;
        this.report({ state: 'reconnecting', detail: signal.error.message, reconnects: this.health.reconnects + 1, url: this.base });
        return;
      case 'stalled':
        this.report({ state: 'reconnecting', detail: `Nothing from the relay for ${Math.round(signal.silentMs / 1000)} s` });
        return;
      case 'closed':
        this.disconnected();
        this.report({
          state: 'down',
          detail: signal.error?.status === 401 ? 'The relay refused its token: check /relay.json' : (signal.error?.message ?? 'The relay ended the stream'),
        });
        return;
      case 'message':
        this.lastEventId = signal.lastEventId;
        this.onMessage(signal.event, signal.data, signal.at);
        if (this.sharedWith.size) this.group?.post({ type: 'frame', event: signal.event, data: signal.data, at: signal.at, lastEventId: signal.lastEventId });
        return;
      default:
        return;
    }
  }

  private disconnected(): void {
    this.connection = '';
    this.hello = signal();
  }

  private onMessage(event: string, data: string, at: number): void {
    const read = readRelayFrame(event, data);
    switch (read.frame) {
      case 'hello':
        this.connection = read.hello.connection;
        this.hello.resolve();
        this.report({ relayId: read.hello.relay, log: read.hello.log, lastFrameAt: at });
        if (this.hellos++ > 0) this.handlers.onReconnected();
        void this.sendInterest();
        return;
      case 'snapshot':
        this.countDropped(read.dropped, read.problem);
        this.report({ lastFrameAt: at });
        this.handlers.onSnapshot(read.jobs);
        return;
      case 'events': {
        this.countDropped(read.dropped, read.problem);
        const newest = read.events.at(-1);
        this.report({
          events: this.health.events + read.events.length,
          lastFrameAt: at,
          lagMs: newest ? Math.max(0, at - newest.receivedAt) : this.health.lagMs,
        });
        if (read.events.length) this.handlers.onEvents(read.events);
        return;
      }
      case 'invalid':
        this.countDropped(1, read.problem);
        return;
      default:
        return;
    }
  }

  /** what the relay sent that did not parse: dropped, counted, and the latest reason kept for the operator */
  private countDropped(dropped: number, problem: string | undefined): void {
    if (dropped === 0) return;
    this.report({ invalid: this.health.invalid + dropped, invalidDetail: problem ?? this.health.invalidDetail });
  }

  /**
   * Which jobs are open and on screen: sent a moment later (a scroll sends once), or `now`,
   * resolving once the relay has it (an opened job's history is read after that). Before the
   * stream's hello there is no connection to name: `now` waits for it, a while.
   */
  async setInterest(interest: Partial<RelayInterest>, { now = false, waitMs = 10_000 } = {}): Promise<void> {
    this.interest = { ...this.interest, ...interest };
    clearTimeout(this.interestTimer);
    if (now) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.hello.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
      return this.sendInterest();
    }
    this.interestTimer = setTimeout(() => void this.sendInterest(), 100);
  }

  /** To the relay, for every tab of the browser sharing the stream; a tab that does not hold it tells the one that does. */
  private async sendInterest(): Promise<void> {
    if (this.following) return this.tellLeader();
    if (!this.connection) return;
    const interests = [this.interest, ...this.tabInterests.values()];
    const open = union(interests.map((interest) => interest.open));
    const visible = union(interests.map((interest) => interest.visible));
    await this.fetchImpl(`${this.base}/v1/subscriptions`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ connection: this.connection, open, visible }),
    }).catch(() => undefined); // a dropped stream resubscribes on its next hello
  }

  /** resolves once the tab holding the stream has sent this tab's interest on, or after a while */
  private tellLeader(waitMs = 10_000): Promise<void> {
    const ack = ++this.acks;
    this.group!.post({ type: 'interest', tab: this.group!.tabId, interest: this.interest, ack });
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(ack);
        resolve();
      }, waitMs);
      this.pendingAcks.set(ack, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async call<T>(path: string, body?: unknown): Promise<T> {
    let response: Response | undefined;
    // a relay that does not answer at all: the next one (they share one log)
    for (let tried = 0; !response; tried++) {
      try {
        response = await this.fetchImpl(`${this.base}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: this.headers(),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (tried + 1 >= this.bases.length) throw new Error(`No relay answered: ${(error as Error).message}`, { cause: error });
        this.current = (this.current + 1) % this.bases.length;
      }
    }
    const answer = (await response.json().catch(() => ({}))) as { error?: string; fields?: Record<string, string> };
    if (response.status === 400 && answer.fields) throw new LaunchValidationError(answer.fields);
    if (!response.ok) throw new Error(answer.error ?? `The relay answered ${response.status}`);
    return answer as T;
  }

  /** the relay's sources, without their tokens */
  async sources(): Promise<{ accepted: Source[]; skipped: string[] }> {
    const list = await this.call<unknown[]>('/v1/sources');
    const accepted: Source[] = [];
    const skipped: string[] = [];
    for (const entry of Array.isArray(list) ? list : []) {
      const parsed = v.safeParse(SourceSchema, entry);
      if (parsed.success) accepted.push(parsed.output);
      else skipped.push(`a relay source: ${parsed.issues[0].message}`);
    }
    return { accepted, skipped };
  }

  /** a job's whole history; events that do not parse are dropped and counted, as on the stream */
  async history(key: string): Promise<RelayEvent[]> {
    const answer = await this.call<unknown>(`/v1/jobs/${encodeURIComponent(key)}/events`);
    const read = readRelayBody(RELAY_FRAME.events, answer);
    if (read.frame !== 'events') throw new Error(`The relay's history of ${key} is not a list of events`);
    this.countDropped(read.dropped, read.problem);
    return read.events;
  }

  /** @returns the job's id, and whether the relay can cancel it (it streams the job itself) */
  launch(sourceId: string, values: unknown): Promise<{ jobId: string; cancellable?: boolean }> {
    return this.call('/v1/jobs', { sourceId, values });
  }

  async followUp(key: string, instruction: string): Promise<string> {
    return (await this.call<{ jobId: string }>(`/v1/jobs/${encodeURIComponent(key)}/follow-up`, { instruction })).jobId;
  }

  async cancel(key: string): Promise<void> {
    await this.call(`/v1/jobs/${encodeURIComponent(key)}/cancel`, {});
  }

  /** A platform token for the relays (the one they had was refused); no viewer ever reads it back. */
  async renewToken(sourceId: string, token: string): Promise<void> {
    await this.call(`/v1/sources/${encodeURIComponent(sourceId)}/token`, { token });
  }

  /** Every finished job the relay's log holds, for /insights. */
  insightsFacts(): Promise<JobFacts[]> {
    return this.call('/v1/insights/facts');
  }

  /** What each relay follows upstream; a relay's answer that does not parse is an error, not a blank table. */
  async connections(): Promise<RelayConnections[]> {
    const parsed = v.safeParse(RelayConnectionsAnswer, await this.call<unknown>('/v1/connections'));
    if (!parsed.success) throw new Error(`The relay's connections did not parse: ${describeIssues(parsed.issues)}`);
    return parsed.output.relays;
  }
}

/**
 * The relay this dashboard is configured for: `/relay.json`, absent (404) when the dashboard
 * talks to the platforms itself. A file that is there but wrong is an error, not a silent fallback.
 */
export async function loadRelayConfig(url = '/relay.json'): Promise<RelayConfig | undefined> {
  const response = await fetch(url, { headers: { Accept: 'application/json' } }).catch(() => undefined);
  if (!response?.ok) return undefined;
  const parsed = v.safeParse(RelayConfigSchema, await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`${url} is not a relay configuration: ${parsed.issues[0].message}`);
  return parsed.output;
}
