import { openDB, unwrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { JobEvent } from '../model/events';
import { isTerminal, type Job } from '../model/job';

// Job history in IndexedDB (through idb, a small promise wrapper over the raw API): a reload,
// or a shared URL opened later, shows the whole timeline at once and resumes from there.

interface HistorySchema extends DBSchema {
  jobs: { key: string; value: Job };
  events: { key: number; value: JobEvent; indexes: { byJob: string } };
}

export interface HistoryOptions {
  /** finished jobs kept; the oldest go first @default 2000 */
  maxFinishedJobs: number;
  /** events kept per job; the oldest go first @default 20000 */
  maxEventsPerJob: number;
}

export const DEFAULT_HISTORY: HistoryOptions = { maxFinishedJobs: 2000, maxEventsPerJob: 20_000 };

/** Where the operator's limit on kept finished jobs lives (a preference, not a secret). */
export const HISTORY_LIMIT_KEY = 'genwatch.history.maxFinishedJobs';

export function historyOptionsFromSettings(): HistoryOptions {
  const raw = globalThis.localStorage?.getItem(HISTORY_LIMIT_KEY);
  // no setting is not a setting of 0 (Number(null) is 0, which would drop every finished job)
  const stored = raw === null || raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isInteger(stored) && stored >= 0 ? { ...DEFAULT_HISTORY, maxFinishedJobs: stored } : DEFAULT_HISTORY;
}

const DB_NAME = 'genwatch-history';

/**
 * Events written per transaction. A flood queues thousands between two writes; one
 * transaction for all of them is one long task (a structured clone each), so they go in
 * slices, each its own transaction, and the page gets a turn while each commits.
 */
const EVENTS_PER_WRITE = 500;

/** Events worth keeping: heartbeats say nothing once they are past. */
export const keepsInHistory = (event: JobEvent) => event.kind !== 'heartbeat';

export class JobHistory {
  private db: Promise<IDBPDatabase<HistorySchema>> | undefined;
  private pendingJobs = new Map<string, Job>();
  private pendingEvents: JobEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly options: HistoryOptions = DEFAULT_HISTORY) {}

  static available(): boolean {
    return typeof indexedDB !== 'undefined';
  }

  private open(): Promise<IDBPDatabase<HistorySchema>> {
    this.db ??= openDB<HistorySchema>(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore('jobs');
        db.createObjectStore('events', { autoIncrement: true }).createIndex('byJob', 'key');
      },
    });
    return this.db;
  }

  /** Queue what a flush changed; written together a moment later, in one transaction. */
  record(jobs: Iterable<Job>, events: readonly JobEvent[]): void {
    for (const job of jobs) this.pendingJobs.set(job.key, job);
    for (const event of events) if (keepsInHistory(event)) this.pendingEvents.push(event);
    this.timer ??= setTimeout(() => void this.flush(), 250);
  }

  /** Write what is queued now (the page is being hidden or closed). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingJobs.size === 0 && this.pendingEvents.length === 0) return this.writing;
    const jobs = [...this.pendingJobs.values()];
    const events = this.pendingEvents;
    this.pendingJobs = new Map();
    this.pendingEvents = [];
    this.writing = this.writing
      .then(async () => {
        const db = await this.open();
        for (let at = 0; at === 0 || at < events.length; at += EVENTS_PER_WRITE) {
          const tx = db.transaction(['jobs', 'events'], 'readwrite');
          if (at === 0) for (const job of jobs) void tx.objectStore('jobs').put(job, job.key);
          // the raw store: no promise per request, only the transaction's
          const eventStore = unwrap(tx.objectStore('events'));
          for (const event of events.slice(at, at + EVENTS_PER_WRITE)) eventStore.add(event);
          await tx.done;
        }
      })
      .catch(() => {
        // a full disk or a private window: history is a convenience, the live view goes on
      });
    return this.writing;
  }

  /** Every job kept, newest first, after dropping the oldest finished ones beyond the limit. */
  async loadJobs(): Promise<Job[]> {
    const db = await this.open();
    const jobs = await db.getAll('jobs');
    jobs.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    const finished = jobs.filter((job) => isTerminal(job.status));
    const drop = finished.slice(this.options.maxFinishedJobs);
    if (drop.length) await this.forget(drop.map((job) => job.key));
    const dropped = new Set(drop.map((job) => job.key));
    return jobs.filter((job) => !dropped.has(job.key));
  }

  /** A job's events, oldest first, at most `maxEventsPerJob` of the newest. */
  async loadEvents(key: string): Promise<JobEvent[]> {
    const db = await this.open();
    const events = await db.getAllFromIndex('events', 'byJob', key);
    return events.slice(-this.options.maxEventsPerJob);
  }

  async forget(keys: readonly string[]): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(['jobs', 'events'], 'readwrite');
    for (const key of keys) {
      void tx.objectStore('jobs').delete(key);
      let cursor = await tx.objectStore('events').index('byJob').openKeyCursor(IDBKeyRange.only(key));
      while (cursor) {
        void tx.objectStore('events').delete(cursor.primaryKey);
        cursor = await cursor.continue();
      }
    }
    await tx.done;
  }

  async clear(): Promise<void> {
    const db = await this.open();
    await Promise.all([db.clear('jobs'), db.clear('events')]);
  }
}
