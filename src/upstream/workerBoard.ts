import type { ListingHealth } from '../feeds/discovery';
import { listingKey } from '../feeds/discovery';
import { DEFAULT_FEED_SETTINGS } from '../feeds/feedSettings';
import { WireLedger, type SourceLedger } from '../feeds/wireLedger';
import type { JobEvent } from '../model/events';
import { isTerminal, type Job } from '../model/job';
import { JobBoard } from '../model/jobBoard';
import { BACKGROUND_LOG_CAPACITY, FINISHED_LOG_CAPACITY } from '../model/jobLog';
import { DEFAULT_HISTORY, JobHistory, type HistoryOptions } from '../persistence/history';
import type { Source } from '../protocols/source';
import { DirectUpstream } from './direct';
import type { ReducedBatch, SharedBoardPort } from './tabsWire';
import type { BoardPort, Upstream } from './upstream';

/**
 * The board as the feed worker holds it, for the feeds it runs for every tab of the browser:
 * what they need to know of a job (a listing seen twice, where a stream resumes), the short
 * logs a tab opening a job is given, and the history, which only the worker writes. No page
 * renders it: each tab reduces what the worker sends into its own.
 */
export class WorkerBoard implements SharedBoardPort {
  private readonly wireLedger = new WireLedger();
  private readonly records = new JobBoard({
    logCapacity: (_key, job) => this.capacity(job),
    maxFinishedJobs: () => this.historyOptions.maxFinishedJobs,
    onLetGo: (key) => {
      this.feeds?.forget(key);
      this.storedLoads.delete(key);
      this.restored.delete(key);
    },
    platformOf: (sourceId) => this.sources.get(sourceId)?.kind ?? 'codebegen',
  });
  /** every source a tab asked about, with the newest token a tab gave */
  private readonly sources = new Map<string, Source>();
  private readonly listingHealth = new Map<string, ListingHealth>();
  private readonly history: JobHistory | undefined;
  /** jobs from the history not followed since the worker started */
  private readonly restored = new Set<string>();
  private readonly storedLoads = new Map<string, Promise<string[]>>();
  /** the feeds that follow this board's jobs, once they run */
  private feeds: Pick<Upstream, 'watchSource' | 'forget'> | undefined;

  constructor(private readonly historyOptions: HistoryOptions = DEFAULT_HISTORY) {
    this.history = JobHistory.available() ? new JobHistory(historyOptions) : undefined;
  }

  /** The jobs kept from earlier visits: what a listing shows of them is not news, and running ones resume after what is stored. */
  async restore(): Promise<void> {
    const stored = await this.history?.loadJobs().catch(() => [] as Job[]);
    for (const job of this.records.restore(stored ?? [])) this.restored.add(job.key);
  }

  followedBy(feeds: Pick<Upstream, 'watchSource' | 'forget'>): void {
    this.feeds = feeds;
  }

  /** The feeds of this board, as every genwatch page builds them. */
  direct(port: BoardPort, overrides: Partial<ConstructorParameters<typeof DirectUpstream>[1]>): DirectUpstream {
    return new DirectUpstream(port, {
      feed: { ...DEFAULT_FEED_SETTINGS, observe: (source, channel, raw, events) => this.wireLedger.record(source, channel, raw, events) },
      ledger: this.wireLedger,
      onListingState: (health) => this.setListing(health),
      kept: (key) => this.restored.has(key),
      seenBefore: (key) => (this.restored.has(key) ? this.storedWireIds(key).finally(() => this.restored.delete(key)) : undefined),
      storedWireIds: (key) => this.storedWireIds(key),
      setToken: (sourceId, token) => this.setToken(sourceId, token),
      ...overrides,
    });
  }

  /** Applied at once: the feeds ask what is known of a job as soon as they have sent it. */
  ingest(events: readonly JobEvent[]): void {
    this.records.enqueue(events);
    const applied = this.records.apply();
    if (!this.history || !applied) return;
    const { batch, changed } = applied;
    const keys = new Set([...changed].map((record) => record.job.key));
    this.history.record(
      [...changed].map((record) => record.job),
      batch.filter((event) => keys.has(event.key)),
    );
  }

  known(key: string): Job | undefined {
    return this.records.known(key);
  }

  focused(): undefined {
    return undefined;
  }

  remove(key: string): void {
    this.records.remove(key);
    this.storedLoads.delete(key);
  }

  jobs(): Job[] {
    return this.records.jobs();
  }

  adopt(jobs: Job[]): void {
    this.records.adopt(jobs);
  }

  mergeLog(key: string, events: JobEvent[]): void {
    this.records.mergeLog(key, events);
  }

  eventsOf(key: string): JobEvent[] {
    return this.records.eventsOf(key);
  }

  current(key: string): Job | undefined {
    return this.records.get(key);
  }

  /** while a tab holds the feeds (the worker answered too late): the board it sends */
  adoptReduced({ jobs, log }: ReducedBatch): void {
    this.records.adoptReduced(jobs, log);
  }

  /** Once per job: what the history holds of it, in its log, as the wire ids a stream resumes after. */
  storedWireIds(key: string): Promise<string[]> {
    let loading = this.storedLoads.get(key);
    if (!loading) {
      loading = this.readStored(key);
      this.storedLoads.set(key, loading);
    }
    return loading;
  }

  private async readStored(key: string): Promise<string[]> {
    const job = this.records.get(key);
    if (!this.history || !job || job.eventCount === 0) return [];
    const stored = await this.history.loadEvents(key).catch(() => [] as JobEvent[]);
    this.records.withStoredLog(key, stored);
    return stored.flatMap((event) => (event.wireId ? [event.wireId] : []));
  }

  async flushHistory(): Promise<void> {
    await this.history?.flush();
  }

  watchAll(): void {
    for (const source of this.sources.values()) {
      this.feeds?.watchSource(source, this.records.unfinishedOf(source.id));
    }
  }

  sourceFor(source: Source): Source {
    const known = this.sources.get(source.id);
    if (known) return known;
    this.sources.set(source.id, source);
    return source;
  }

  listings(): ListingHealth[] {
    return [...this.listingHealth.values()];
  }

  setListing(health: ListingHealth): void {
    this.listingHealth.set(listingKey(health.sourceId, health.listingId), health);
  }

  /** the tab that was given the token keeps it (or not); the worker holds it only in memory */
  setToken(sourceId: string, token: string): Source | undefined {
    const source = this.sources.get(sourceId);
    if (!source) return undefined;
    const renewed = { ...source, token };
    this.sources.set(sourceId, renewed);
    return renewed;
  }

  ledger(sourceId: string): SourceLedger {
    return this.wireLedger.snapshot(sourceId);
  }

  onRole(): void {}

  /** a finished job's log is in the history, whole: a tab opening it reads it there */
  private capacity(job: Job | undefined): number {
    return this.history && job && isTerminal(job.status) ? FINISHED_LOG_CAPACITY : BACKGROUND_LOG_CAPACITY;
  }
}
