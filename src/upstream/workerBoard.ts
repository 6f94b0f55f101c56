import type { ListingHealth } from '../feeds/discovery';
import { listingKey } from '../feeds/discovery';
import { DEFAULT_FEED_SETTINGS } from '../feeds/jobFeed';
import { WireLedger, type SourceLedger } from '../feeds/wireLedger';
import type { JobEvent } from '../model/events';
import { finishedPastLimit, isTerminal, letGoJob, newJob, splitJobKey, type Job } from '../model/job';
import { BACKGROUND_LOG_CAPACITY, FINISHED_LOG_CAPACITY, mergedLog, withStored } from '../model/jobLog';
import { reduceJob } from '../model/reducer';
import { RingBuffer } from '../model/ringBuffer';
import { DEFAULT_HISTORY, JobHistory, type HistoryOptions } from '../persistence/history';
import type { Source } from '../protocols/source';
import { DirectUpstream } from './direct';
import type { SharedBoardPort } from './tabs';
import type { BoardPort, Upstream } from './upstream';

interface JobRecord {
  job: Job;
  log: RingBuffer<JobEvent>;
}

/**
 * The board as the feed worker holds it, for the feeds it runs for every tab of the browser:
 * what they need to know of a job (a listing seen twice, where a stream resumes), the short
 * logs a tab opening a job is given, and the history, which only the worker writes. No page
 * renders it: each tab reduces what the worker sends into its own.
 */
export class WorkerBoard implements SharedBoardPort {
  private readonly wireLedger = new WireLedger();
  private readonly records = new Map<string, JobRecord>();
  /** every source a tab asked about, with the newest token a tab gave */
  private readonly sources = new Map<string, Source>();
  private readonly listingHealth = new Map<string, ListingHealth>();
  private readonly history: JobHistory | undefined;
  /** jobs from the history not followed since the worker started */
  private readonly restored = new Set<string>();
  private readonly storedLoads = new Map<string, Promise<string[]>>();
  /** finished jobs let go of past the history's limit: a listing that still shows one does not bring it back */
  private readonly evicted = new Set<string>();
  // microseconds since the epoch: increasing across visits, as every tab's are
  private nextSeq = Date.now() * 1000;
  /** the feeds that follow this board's jobs, once they run */
  private feeds: Pick<Upstream, 'watchSource' | 'forget'> | undefined;

  constructor(private readonly historyOptions: HistoryOptions = DEFAULT_HISTORY) {
    this.history = JobHistory.available() ? new JobHistory(historyOptions) : undefined;
  }

  /** The jobs kept from earlier visits: what a listing shows of them is not news, and running ones resume after what is stored. */
  async restore(): Promise<void> {
    const stored = await this.history?.loadJobs().catch(() => [] as Job[]);
    for (const job of stored ?? []) {
      if (this.records.has(job.key)) continue;
      this.records.set(job.key, {
        job: { ...job, transport: 'none', link: 'idle', linkDetail: undefined, linkFatal: false },
        log: new RingBuffer(this.capacity(job)),
      });
      this.restored.add(job.key);
    }
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

  ingest(events: readonly JobEvent[]): void {
    const changed = new Set<JobRecord>();
    let added = false;
    for (const event of events) {
      // the arrival sequence every tab orders and stores the event by
      event.seq ??= this.nextSeq++;
      if (this.evicted.has(event.key)) continue;
      let record = this.records.get(event.key);
      if (!record) {
        record = { job: newJob(event.sourceId, event.jobId, event.platform), log: new RingBuffer(BACKGROUND_LOG_CAPACITY) };
        this.records.set(event.key, record);
        added = true;
      }
      record.job = reduceJob(record.job, event);
      if (event.kind !== 'heartbeat') record.log.push(event);
      changed.add(record);
    }
    for (const record of changed) record.log = record.log.resized(this.capacity(record.job));
    if (added) this.evictFinished();
    if (!this.history || changed.size === 0) return;
    const keys = new Set([...changed].map((record) => record.job.key));
    this.history.record(
      [...changed].map((record) => record.job),
      events.filter((event) => keys.has(event.key)),
    );
  }

  known(key: string): Job | undefined {
    const job = this.records.get(key)?.job;
    if (job || !this.evicted.has(key)) return job;
    return letGoJob(key, this.sources.get(splitJobKey(key).sourceId)?.kind ?? 'codebegen');
  }

  focused(): undefined {
    return undefined;
  }

  remove(key: string): void {
    this.records.delete(key);
    this.storedLoads.delete(key);
  }

  jobs(): Job[] {
    const created = (job: Job) => job.createdAt ?? 0;
    return [...this.records.values()].map((record) => record.job).sort((a, b) => created(b) - created(a));
  }

  adopt(jobs: Job[]): void {
    for (const job of jobs) {
      const record = this.records.get(job.key);
      if (record) record.job = job;
      else this.records.set(job.key, { job, log: new RingBuffer(this.capacity(job)) });
    }
  }

  mergeLog(key: string, events: JobEvent[]): void {
    const record = this.records.get(key);
    if (record && events.length) record.log = mergedLog(events, record.log.toArray(), record.log.capacity);
  }

  eventsOf(key: string): JobEvent[] {
    return this.records.get(key)?.log.toArray() ?? [];
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
    const record = this.records.get(key);
    if (!this.history || !record || record.job.eventCount === 0) return [];
    const stored = await this.history.loadEvents(key).catch(() => [] as JobEvent[]);
    record.log = withStored(stored, record.log.toArray(), record.log.capacity);
    return stored.flatMap((event) => (event.wireId ? [event.wireId] : []));
  }

  async flushHistory(): Promise<void> {
    await this.history?.flush();
  }

  watchAll(): void {
    for (const source of this.sources.values()) {
      const unfinished = [...this.records.values()].flatMap(({ job }) => (job.sourceId === source.id && !isTerminal(job.status) ? [job.jobId] : []));
      this.feeds?.watchSource(source, unfinished);
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
  private capacity(job: Job): number {
    return this.history && isTerminal(job.status) ? FINISHED_LOG_CAPACITY : BACKGROUND_LOG_CAPACITY;
  }

  /** Past the history's limit of finished jobs, the oldest go from memory too, as they do from the history. */
  private evictFinished(): void {
    const finished = [...this.records.values()].flatMap(({ job }) => (isTerminal(job.status) ? [job] : []));
    for (const job of finishedPastLimit(finished, this.historyOptions.maxFinishedJobs)) {
      this.records.delete(job.key);
      this.feeds?.forget(job.key);
      this.storedLoads.delete(job.key);
      this.restored.delete(job.key);
      this.evicted.add(job.key);
    }
  }
}
