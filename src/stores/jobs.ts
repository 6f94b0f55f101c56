import { acceptHMRUpdate, defineStore } from 'pinia';
import { computed, markRaw, shallowRef } from 'vue';
import { SourceDiscovery } from '../feeds/discovery';
import { FeedManager } from '../feeds/feedManager';
import { DEFAULT_FEED_OPTIONS, type FeedOptions } from '../feeds/jobFeed';
import type { JobEvent } from '../model/events';
import { JOB_STATUSES, isTerminal, newJob, type Job, type JobStatus } from '../model/job';
import { reduceJob } from '../model/reducer';
import { RingBuffer } from '../model/ringBuffer';
import { dialectFor } from '../protocols';
import type { Source } from '../protocols/source';
import { useSourcesStore } from './sources';

/** events kept in memory per job for its log */
export const EVENT_LOG_CAPACITY = 1000;

interface JobRecord {
  job: Job;
  log: RingBuffer<JobEvent>;
}

/** Overridable for tests and the benchmark (shorter retries, a given fetch). */
export const jobsConfig: { feed: FeedOptions; discoveryIntervalMs: number } = {
  feed: { ...DEFAULT_FEED_OPTIONS },
  discoveryIntervalMs: 3000,
};

/**
 * Every job the dashboard knows. Records live outside Vue's reactivity; events are queued and
 * applied in one batch per animation frame, after which `jobs` gets a new array whose items
 * are new objects only for jobs that changed, so unchanged rows skip rendering.
 */
export const useJobsStore = defineStore('jobs', () => {
  const records = new Map<string, JobRecord>();
  let order: string[] = [];
  let queue: JobEvent[] = [];
  let flushScheduled = false;

  /** newest first */
  const jobs = shallowRef<readonly Job[]>([]);
  /** bumps on every flush that changed something */
  const revision = shallowRef(0);

  const counts = computed(() => {
    const byStatus = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const job of jobs.value) byStatus[job.status]++;
    return byStatus;
  });

  const feeds = markRaw(new FeedManager((events) => ingestMany(events), jobsConfig.feed));
  const discoveries = markRaw(new Map<string, SourceDiscovery>());

  function ingest(event: JobEvent): void {
    queue.push(event);
    scheduleFlush();
  }

  function ingestMany(events: readonly JobEvent[]): void {
    for (const event of events) queue.push(event);
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    // A frame when the page is painted; a timer when hidden (rAF does not run then).
    let timer: ReturnType<typeof setTimeout> | undefined;
    let frame: number | undefined;
    const run = () => {
      if (timer !== undefined) clearTimeout(timer);
      if (frame !== undefined) cancelAnimationFrame(frame);
      flush();
    };
    if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState === 'visible') {
      frame = requestAnimationFrame(run);
    }
    timer = setTimeout(run, 100);
  }

  function flush(): void {
    flushScheduled = false;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    let added = false;
    for (const event of batch) {
      let record = records.get(event.key);
      if (!record) {
        record = { job: newJob(event.sourceId, event.jobId, event.platform), log: new RingBuffer(EVENT_LOG_CAPACITY) };
        records.set(event.key, record);
        added = true;
      }
      record.job = reduceJob(record.job, event);
      if (event.kind !== 'heartbeat') record.log.push(event);
    }
    if (added) {
      order = [...records.keys()];
      const created = (key: string) => records.get(key)!.job.createdAt ?? 0;
      order.sort((a, b) => created(b) - created(a));
    }
    jobs.value = order.map((key) => records.get(key)!.job);
    revision.value++;
  }

  function get(key: string): Job | undefined {
    return records.get(key)?.job;
  }

  /** oldest first; a copy */
  function eventsOf(key: string): JobEvent[] {
    return records.get(key)?.log.toArray() ?? [];
  }

  function feedFor(source: Source, jobId: string, renew = false) {
    const dialect = dialectFor(source.kind);
    if (!dialect) return undefined;
    return feeds.watch(source, dialect, jobId, { renew });
  }

  /** Watch a source: discover its jobs and keep the running ones current. */
  function attachSource(source: Source): void {
    const dialect = dialectFor(source.kind);
    if (!dialect || discoveries.has(source.id)) return;
    const sources = useSourcesStore();
    const discovery = new SourceDiscovery(
      source,
      dialect,
      (sightings) => {
        for (const sighting of sightings) {
          const key = `${source.id}/${sighting.jobId}`;
          const known = records.get(key)?.job;
          if (!known && !feeds.feed(key)) {
            ingestMany(sighting.events);
            if (!sighting.finished) feedFor(source, sighting.jobId);
          } else if (known && known.createdAt === undefined) {
            // Streams do not carry the prompt or creation time; a listing does.
            for (const event of sighting.events) {
              if (event.kind !== 'update') continue;
              const { title, createdAt } = event.update;
              ingest({ ...event, at: createdAt ?? event.at, raw: undefined, label: 'listing', update: { title, createdAt } });
            }
          }
        }
      },
      (state) => sources.setDiscovery(source.id, state),
      jobsConfig.discoveryIntervalMs,
      jobsConfig.feed.fetch,
    );
    discoveries.set(source.id, discovery);
    discovery.start();
  }

  /**
   * The operator looks at this job: give it a stream first, and load its history when all we
   * have is a summary (a job from a listing, a shared URL).
   */
  function open(source: Source, jobId: string): void {
    const key = `${source.id}/${jobId}`;
    const job = get(key);
    const needsHistory = !job || job.phases.length <= 1 || !isTerminal(job.status);
    feeds.focus(key);
    if (needsHistory) feedFor(source, jobId);
  }

  /** The operator left the job page: its stream may go to another job. */
  function blur(): void {
    feeds.focus(undefined);
  }

  /** After the operator fixed what halted a job (a token, a source), try again. */
  function retry(source: Source, jobId: string): void {
    feedFor(source, jobId, true);
  }

  async function launch(source: Source, request: unknown): Promise<string> {
    const dialect = dialectFor(source.kind);
    if (!dialect?.launch) throw new Error(`${source.name} cannot start jobs from genwatch`);
    const sighting = await dialect.launch(source, request, jobsConfig.feed.fetch);
    ingestMany(sighting.events);
    feedFor(source, sighting.jobId);
    return sighting.jobId;
  }

  function linkOf(key: string) {
    return feeds.feed(key);
  }

  /** for tests: stop every connection and forget everything */
  function $reset(): void {
    feeds.stopAll();
    for (const discovery of discoveries.values()) discovery.stop();
    discoveries.clear();
    records.clear();
    order = [];
    queue = [];
    jobs.value = [];
  }

  return { jobs, revision, counts, ingest, ingestMany, flush, get, eventsOf, attachSource, open, blur, retry, launch, linkOf, $reset };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot));
