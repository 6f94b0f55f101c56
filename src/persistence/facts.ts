import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { JobFacts } from '../model/facts';

// Finished jobs' facts for /insights, in their own IndexedDB database: a few hundred bytes a
// job, kept far longer than the job history (whose events are the bulk), and written in relay
// mode too, where the job history is the relay's. Opened from the page (writes) and from the
// insights worker (reads).

interface FactsSchema extends DBSchema {
  facts: { key: string; value: JobFacts; indexes: { byFinishedAt: number } };
}

export const FACTS_DB = 'genwatch-insights';
/** facts kept; the oldest go first */
export const MAX_FACTS = 200_000;

export function openFacts(): Promise<IDBPDatabase<FactsSchema>> {
  return openDB<FactsSchema>(FACTS_DB, 1, {
    upgrade(db) {
      db.createObjectStore('facts', { keyPath: 'key' }).createIndex('byFinishedAt', 'finishedAt');
    },
  });
}

/** Every kept fact, oldest end first. */
export async function loadFacts(): Promise<JobFacts[]> {
  const db = await openFacts();
  try {
    return await db.getAllFromIndex('facts', 'byFinishedAt');
  } finally {
    db.close();
  }
}

/** Writes facts a moment after they come, in one transaction, and keeps at most MAX_FACTS. */
export class FactsLog {
  private db: Promise<IDBPDatabase<FactsSchema>> | undefined;
  private pending: JobFacts[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writes = 0;

  constructor(private readonly maxFacts = MAX_FACTS) {}

  static available(): boolean {
    return typeof indexedDB !== 'undefined';
  }

  record(facts: JobFacts): void {
    this.pending.push(facts);
    this.timer ??= setTimeout(() => void this.flush(), 1000);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.db ??= openFacts();
      const db = await this.db;
      const tx = db.transaction('facts', 'readwrite');
      for (const facts of batch) void tx.store.put(facts);
      await tx.done;
      // trimming counts the store: now and then is enough
      if (this.writes++ % 50 === 0) await this.trim(db);
    } catch {
      // a blocked or full database: insights lose these jobs, the dashboard carries on
    }
  }

  private async trim(db: IDBPDatabase<FactsSchema>): Promise<void> {
    const excess = (await db.count('facts')) - this.maxFacts;
    if (excess <= 0) return;
    const tx = db.transaction('facts', 'readwrite');
    let cursor = await tx.store.index('byFinishedAt').openCursor();
    for (let removed = 0; cursor && removed < excess; removed++) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  }

  async clear(): Promise<void> {
    this.pending = [];
    this.db ??= openFacts();
    await (await this.db).clear('facts');
  }
}
