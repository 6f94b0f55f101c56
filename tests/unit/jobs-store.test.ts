import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { JobEvent } from '../../src/model/events';
import { BACKGROUND_LOG_CAPACITY, EVENT_LOG_CAPACITY, useJobsStore } from '../../src/stores/jobs';
import type { Source } from '../../src/protocols/source';

const event = (jobId: string, at: number, progress: number): JobEvent => ({
  key: `s/${jobId}`,
  sourceId: 's',
  jobId,
  platform: 'codebegen',
  at,
  receivedAt: at,
  kind: 'update',
  update: { status: 'running', progress, createdAt: Number(jobId.slice(1)) },
});

describe('jobs store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('applies queued events in one batch and keeps jobs newest first', () => {
    const store = useJobsStore();
    for (let i = 0; i < 2000; i++) store.ingest(event(`j${i % 20}`, i, i / 20));
    expect(store.jobs).toHaveLength(0); // nothing until the flush
    store.flush();
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
    store.flush();
    expect(store.eventsOf('s/j1')).toHaveLength(BACKGROUND_LOG_CAPACITY);
    expect(store.eventsOf('s/j1').at(-1)!.at).toBe(EVENT_LOG_CAPACITY + 249);
    expect(store.get('s/j1')!.eventCount).toBe(EVENT_LOG_CAPACITY + 250);

    store.open(source, 'j1');
    for (let i = 0; i < EVENT_LOG_CAPACITY + 250; i++) store.ingest(event('j1', 2000 + i, 1));
    store.flush();
    expect(store.eventsOf('s/j1')).toHaveLength(EVENT_LOG_CAPACITY);
    // every event got its own sequence number, in arrival order
    const seqs = store.eventsOf('s/j1').map((item) => item.seq!);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual(seqs.slice().sort((a, b) => a - b));

    store.blur();
    expect(store.eventsOf('s/j1')).toHaveLength(BACKGROUND_LOG_CAPACITY);
    expect(store.eventsOf('s/j1').at(-1)!.at).toBe(2000 + EVENT_LOG_CAPACITY + 249);
  });

  it('flushes by itself shortly after events arrive', async () => {
    const store = useJobsStore();
    store.ingest(event('j1', 1, 5));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(store.jobs).toHaveLength(1);
  });
});
