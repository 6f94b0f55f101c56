import { compactQueue } from './compact';
import type { JobEvent } from './events';
import { finishedPastLimit, isTerminal, letGoJob, newJob, splitJobKey, type Job, type PlatformKind } from './job';
import { mergedLog, withStored } from './jobLog';
import { reduceJob } from './reducer';
import { RingBuffer } from './ringBuffer';

/**
 * Events waiting to be applied before the queue is compacted: a job's plain updates (status,
 * progress, stage, message) are merged into its newest one, and counted.
 */
export const MAX_QUEUED = 20_000;

export interface JobRecord {
  job: Job;
  log: RingBuffer<JobEvent>;
}

/** What the owner of a board decides for it: how long logs are, which jobs may be let go of. */
export interface BoardPolicy {
  /** events of this job's log kept in memory */
  logCapacity(key: string, job: Job | undefined): number;
  /** finished jobs kept in memory; past it the oldest are let go of, as the history lets them go */
  maxFinishedJobs(): number;
  /** a finished job that may not be let go of (the one open, an export being replayed) */
  keep?(job: Job): boolean;
  /** told of every job let go of, to forget what else is kept of it */
  onLetGo(key: string): void;
  /** the platform of a source, for the placeholder of a job let go of */
  platformOf(sourceId: string): PlatformKind;
}

/** What one `apply` did. */
export interface Applied {
  /** the events applied, in arrival order */
  batch: readonly JobEvent[];
  /** every job the batch changed */
  changed: ReadonlySet<JobRecord>;
}

/**
 * Every job one page (or the feed worker) knows: events queued in arrival order, reduced onto
 * their jobs, and kept in bounded logs, with the jobs let go of past the kept limit remembered
 * so that a listing does not bring them back. Knows nothing of Vue or of where events come from.
 */
export class JobBoard {
  private readonly records = new Map<string, JobRecord>();
  /** newest first */
  private order: string[] = [];
  private queue: JobEvent[] = [];
  private compactAt = MAX_QUEUED;
  // microseconds since the epoch at load: increasing across visits, exact as a double until 2255
  private nextSeq = Date.now() * 1000;
  /**
   * Finished jobs let go of to keep memory bounded, past the history's limit of kept finished
   * jobs: a listing that still shows one does not bring it back; opening it does.
   */
  private readonly letGo = new Set<string>();

  constructor(private readonly policy: BoardPolicy) {}

  /** Queues events to apply, each with its arrival sequence (every tab orders and stores by it). */
  enqueue(events: readonly JobEvent[]): void {
    for (const event of events) {
      event.seq ??= this.nextSeq++;
      this.queue.push(event);
    }
    if (this.queue.length > this.compactAt) {
      this.queue = compactQueue(this.queue);
      // compact again only once the queue has doubled: each pass is linear
      this.compactAt = Math.max(MAX_QUEUED, this.queue.length * 2);
    }
  }

  /** events queued and not yet applied */
  get backlog(): number {
    return this.queue.length;
  }

  /**
   * Applies queued events, for at most `budgetMs` when given (checked every 256 events): the
   * rest stays queued for the next call.
   */
  apply(budgetMs = Infinity): Applied | undefined {
    const { queue } = this;
    if (queue.length === 0) return undefined;
    const startedAt = performance.now();
    let taken = 0;
    let added = false;
    const changed = new Set<JobRecord>();
    while (taken < queue.length) {
      const event = queue[taken++];
      if (this.letGo.has(event.key)) continue;
      let record = this.records.get(event.key);
      if (!record) {
        record = { job: newJob(event.sourceId, event.jobId, event.platform), log: new RingBuffer(this.policy.logCapacity(event.key, undefined)) };
        this.records.set(event.key, record);
        added = true;
      }
      record.job = reduceJob(record.job, event);
      if (event.kind !== 'heartbeat') record.log.push(event);
      changed.add(record);
      if ((taken & 255) === 0 && performance.now() - startedAt > budgetMs) break;
    }
    const batch = taken === queue.length ? queue : queue.slice(0, taken);
    this.queue = taken === queue.length ? [] : queue.slice(taken);
    if (this.queue.length < MAX_QUEUED) this.compactAt = MAX_QUEUED;
    for (const record of changed) this.fitLog(record);
    if (added) {
      this.letGoFinished();
      this.sort();
    }
    return { batch, changed };
  }

  /** Everything queued, applied now: for a reader that must see all that arrived. */
  applyAll(): void {
    while (this.queue.length) this.apply();
  }

  get(key: string): Job | undefined {
    return this.records.get(key)?.job;
  }

  /** A job as the feeds may ask about it: one let go of is finished, with nothing a listing could add. */
  known(key: string): Job | undefined {
    const job = this.records.get(key)?.job;
    if (job || !this.letGo.has(key)) return job;
    return letGoJob(key, this.policy.platformOf(splitJobKey(key).sourceId));
  }

  /** oldest first; a copy */
  eventsOf(key: string): JobEvent[] {
    return this.records.get(key)?.log.toArray() ?? [];
  }

  /** newest created first */
  jobs(): Job[] {
    return this.order.map((key) => this.records.get(key)!.job);
  }

  /** the ids of a source's jobs that have not finished: what its feeds resume */
  unfinishedOf(sourceId: string): string[] {
    const ids: string[] = [];
    for (const { job } of this.records.values()) if (job.sourceId === sourceId && !isTerminal(job.status)) ids.push(job.jobId);
    return ids;
  }

  /** A job let go of and wanted again (opened by the operator): what comes of it is applied again. */
  wantAgain(key: string): void {
    this.letGo.delete(key);
  }

  /** Drops a job and what is queued of it. @returns whether it was on the board */
  remove(key: string): boolean {
    this.queue = this.queue.filter((event) => event.key !== key);
    if (!this.records.delete(key)) return false;
    this.order = this.order.filter((item) => item !== key);
    return true;
  }

  /** Jobs as another holder has them (another tab, a relay), replacing what this board had of them. */
  adopt(jobs: readonly Job[]): void {
    for (const job of jobs) {
      if (this.letGo.has(job.key)) continue;
      const record = this.records.get(job.key);
      if (record) record.job = job;
      else this.records.set(job.key, { job, log: new RingBuffer(this.policy.logCapacity(job.key, job)) });
    }
    this.sort();
  }

  /**
   * Jobs reduced elsewhere (by the feed worker), replacing what this board had of them, and the
   * events of the jobs whose logs are kept here (the ones open), appended in arrival order.
   */
  adoptReduced(jobs: readonly Job[], log: readonly JobEvent[]): void {
    let reordered = false;
    for (const job of jobs) {
      if (this.letGo.has(job.key)) continue;
      const record = this.records.get(job.key);
      if (!record) {
        this.records.set(job.key, { job, log: new RingBuffer(this.policy.logCapacity(job.key, job)) });
        reordered = true;
        continue;
      }
      reordered ||= record.job.createdAt !== job.createdAt;
      record.job = job;
      this.fitLog(record);
    }
    for (const event of log) if (event.kind !== 'heartbeat') this.records.get(event.key)?.log.push(event);
    if (!reordered) return;
    this.letGoFinished();
    this.sort();
  }

  /**
   * Jobs kept from an earlier visit, where the board has none of them yet: resting, since their
   * connections start fresh. @returns the ones taken
   */
  restore(stored: readonly Job[]): Job[] {
    const taken: Job[] = [];
    for (const job of stored) {
      if (this.records.has(job.key)) continue;
      const resting: Job = { ...job, transport: 'none', link: 'idle', linkDetail: undefined, linkFatal: false };
      this.records.set(job.key, { job: resting, log: new RingBuffer(this.policy.logCapacity(job.key, resting)) });
      taken.push(resting);
    }
    this.sort();
    return taken;
  }

  /** A job as its whole history builds it, replacing the summary the board had. */
  rebuild(key: string, stored: readonly JobEvent[]): void {
    const newest = stored.at(-1)?.seq ?? 0;
    this.queue = this.queue.filter((event) => event.key !== key || (event.seq ?? 0) > newest);
    const { sourceId, jobId } = splitJobKey(key);
    let job = newJob(sourceId, jobId, stored[0].platform);
    const log = new RingBuffer<JobEvent>(this.policy.logCapacity(key, undefined));
    for (const event of stored) {
      job = reduceJob(job, event);
      if (event.kind !== 'heartbeat') log.push(event);
    }
    const added = !this.records.has(key);
    this.records.set(key, { job, log });
    if (added) this.sort();
  }

  /** What another holder has of a job's log, merged into this one's: each event once, in arrival order. */
  mergeLog(key: string, events: readonly JobEvent[]): boolean {
    // what arrived and waits would be pushed onto the merged log again
    this.applyAll();
    const record = this.records.get(key);
    if (!record || events.length === 0) return false;
    record.log = mergedLog(events, record.log.toArray(), this.policy.logCapacity(key, record.job));
    return true;
  }

  /** What the history holds of a job, before what is in memory. @returns whether the job is here */
  withStoredLog(key: string, stored: readonly JobEvent[]): boolean {
    const record = this.records.get(key);
    if (!record) return false;
    record.log = withStored(stored, record.log.toArray(), this.policy.logCapacity(key, record.job));
    return true;
  }

  /** The log sized as the policy says now (the job opened, closed or finished). */
  private fitLog(record: JobRecord | undefined): void {
    if (!record) return;
    const capacity = this.policy.logCapacity(record.job.key, record.job);
    if (record.log.capacity !== capacity) record.log = record.log.resized(capacity);
  }

  fitLogOf(key: string | undefined): void {
    if (key !== undefined) this.fitLog(this.records.get(key));
  }

  clear(): void {
    this.records.clear();
    this.order = [];
    this.queue = [];
    this.letGo.clear();
  }

  private sort(): void {
    const created = (key: string) => this.records.get(key)!.job.createdAt ?? 0;
    this.order = [...this.records.keys()].sort((a, b) => created(b) - created(a));
  }

  /** Past the kept limit of finished jobs, the oldest go from memory too, as they do from the history. */
  private letGoFinished(): void {
    const finished: Job[] = [];
    for (const { job } of this.records.values()) if (isTerminal(job.status) && !this.policy.keep?.(job)) finished.push(job);
    for (const job of finishedPastLimit(finished, this.policy.maxFinishedJobs())) {
      this.records.delete(job.key);
      this.letGo.add(job.key);
      this.policy.onLetGo(job.key);
    }
  }
}
