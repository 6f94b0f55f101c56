import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { JobEvent, JobUpdate } from '../../src/model/events';
import { BACKGROUND_LOG_CAPACITY, EVENT_LOG_CAPACITY, useJobsStore } from '../../src/stores/jobs';
import type { Source } from '../../src/protocols/source';
import { DEFAULT_HISTORY } from '../../src/persistence/history';

const event = (jobId: string, at: number, progress: number, update: Partial<JobUpdate> = {}): JobEvent => ({
  key: `s/${jobId}`,
  sourceId: 's',
  jobId,
  platform: 'codebegen',
  at,
  receivedAt: at,
  kind: 'update',
  update: { status: 'running', progress, createdAt: Number(jobId.slice(1)), ...update },
});

describe('jobs store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('applies queued events in batches and keeps jobs newest first', () => {
    const store = useJobsStore();
    for (let i = 0; i < 2000; i++) store.ingest(event(`j${i % 20}`, i, i / 20));
    expect(store.jobs).toHaveLength(0); // nothing until the flush
    // each flush takes what fits in its time budget
    while (store.backlog() > 0) store.flush();
    expect(store.jobs).toHaveLength(20);
    expect(store.jobs[0].jobId).toBe('j19');
    expect(store.counts.running).toBe(20);
    expect(store.get('s/j3')!.eventCount).toBe(100);
  });

  it('keeps the identity of jobs that did not change, so their rows do not re-render', () => {
    const store = useJobsStore();
    store.ingestMany([event('j1', 1, 10), event('j2', 1, 10)]);
    store.flush();
    const [before2, before1] = store.jobs;
    store.ingest(event('j1', 2, 20));
    store.flush();
    expect(store.jobs[0]).toBe(before2);
    expect(store.jobs[1]).not.toBe(before1);
    expect(store.jobs[1].progress).toBe(20);
  });

  it('bounds the event log of each job, more for the job on screen', () => {
    const store = useJobsStore();
    const source: Source = { id: 's', name: 'S', kind: 'codebegen', baseUrl: 'http://s.invalid', replay: true };
    for (let i = 0; i < EVENT_LOG_CAPACITY + 250; i++) store.ingest(event('j1', i, 1));
    // each flush takes what fits in its time budget
    while (store.backlog() > 0) store.flush();
    expect(store.eventsOf('s/j1')).toHaveLength(BACKGROUND_LOG_CAPACITY);
    expect(store.eventsOf('s/j1').at(-1)!.at).toBe(EVENT_LOG_CAPACITY + 249);
    expect(store.get('s/j1')!.eventCount).toBe(EVENT_LOG_CAPACITY + 250);

    store.open(source, 'j1');
    for (let i = 0; i < EVENT_LOG_CAPACITY + 250; i++) store.ingest(event('j1', 2000 + i, 1));
    // each flush takes what fits in its time budget
    while (store.backlog() > 0) store.flush();
    expect(store.eventsOf('s/j1')).toHaveLength(EVENT_LOG_CAPACITY);
    // every event got its own sequence number, in arrival order
    const seqs = store.eventsOf('s/j1').map((item) => item.seq!);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual(seqs.slice().sort((a, b) => a - b));

    store.blur();
    expect(store.eventsOf('s/j1')).toHaveLength(BACKGROUND_LOG_CAPACITY);
    expect(store.eventsOf('s/j1').at(-1)!.at).toBe(2000 + EVENT_LOG_CAPACITY + 249);
  });

  it('lets go of the oldest finished jobs past the kept limit, and a listing does not bring them back', () => {
    const store = useJobsStore();
    const finished = (jobId: string, at: number) => event(jobId, at, 1, { status: 'completed', createdAt: at, finishedAt: at });
    const limit = DEFAULT_HISTORY.maxFinishedJobs;
    for (let i = 0; i < limit + 50; i++) store.ingest(finished(`f${i}`, i + 1));
    store.ingest(event('r1', 1, 0.5));
    while (store.backlog() > 0) store.flush();
    expect(store.counts.completed).toBe(limit);
    expect(store.counts.running).toBe(1);
    // the oldest fifty went; the newest and the running job stayed
    expect(store.get('s/f0')).toBeUndefined();
    expect(store.get('s/f49')).toBeUndefined();
    expect(store.get('s/f50')!.status).toBe('completed');
    // a listing still showing a job let go of (Takoss lists finished projects) changes nothing
    store.ingest(finished('f10', 99_999));
    store.flush();
    expect(store.get('s/f10')).toBeUndefined();
    expect(store.jobs).toHaveLength(limit + 1);
  });

  it('flushes by itself shortly after events arrive', async () => {
    const store = useJobsStore();
    store.ingest(event('j1', 1, 5));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(store.jobs).toHaveLength(1);
  });
});

describe('a flood', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('is merged per job once the queue is long, losing no stage, warning or count', async () => {
    const { MAX_QUEUED } = await import('../../src/stores/jobs');
    const store = useJobsStore();
    const jobs = 10;
    const perJob = (MAX_QUEUED * 3) / jobs;
    for (let i = 0; i < perJob; i++) {
      const batch: JobEvent[] = [];
      for (let j = 0; j < jobs; j++) {
        const base = event(`j${j}`, i, (i / perJob) * 100);
        if (base.kind !== 'update') continue;
        // a stage change halfway and a warning at a third: neither may be merged away
        base.update = { status: 'running', progress: (i / perJob) * 100, stage: i < perJob / 2 ? 'first' : 'second' };
        if (i === Math.floor(perJob / 3)) base.update.warning = `warning of j${j}`;
        batch.push(base);
      }
      store.ingestMany(batch);
    }
    expect(store.backlog()).toBeLessThan(MAX_QUEUED * 2);
    while (store.backlog() > 0) store.flush();
    for (let j = 0; j < jobs; j++) {
      const job = store.get(`s/j${j}`)!;
      expect(job.eventCount).toBe(perJob);
      expect(job.merged).toBeGreaterThan(0);
      expect(job.phases.map((phase) => phase.stage)).toEqual(['first', 'second']);
      expect(job.warnings).toEqual([`warning of j${j}`]);
      expect(job.progress).toBeCloseTo(((perJob - 1) / perJob) * 100);
    }
  });
});
