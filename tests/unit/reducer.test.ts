import { describe, expect, it } from 'vitest';
import type { JobEvent, JobUpdate } from '../../src/model/events';
import { displayStatus, newJob, type Job } from '../../src/model/job';
import { phaseSpans, reduceJob } from '../../src/model/reducer';
import { RingBuffer } from '../../src/model/ringBuffer';

const base = { key: 's/j', sourceId: 's', jobId: 'j', platform: 'codebegen' as const, receivedAt: 0 };
const update = (at: number, fields: JobUpdate): JobEvent => ({ ...base, at, receivedAt: at, kind: 'update', update: fields });
const apply = (events: JobEvent[], job: Job = newJob('s', 'j', 'codebegen')) => events.reduce(reduceJob, job);

describe('reduceJob', () => {
  it('moves status forward and keeps a finished job finished', () => {
    const job = apply([
      update(1, { status: 'running', progress: 10 }),
      update(2, { status: 'completed', progress: 100 }),
      update(3, { status: 'running', progress: 20, message: 'late' }),
    ]);
    expect(job.status).toBe('completed');
    expect(job.progress).toBe(100);
    expect(job.message).toBeUndefined();
    expect(job.finishedAt).toBe(2);
  });

  it('clamps progress and never lets it go back', () => {
    expect(apply([update(1, { progress: 140 })]).progress).toBe(100);
    expect(apply([update(1, { progress: Number.NaN })]).progress).toBe(0);
    expect(apply([update(1, { progress: 50 }), update(2, { progress: 20 })]).progress).toBe(50);
  });

  it('does not let an older event overwrite newer fields', () => {
    const job = apply([update(10, { stage: 'b', message: 'new' }), update(5, { stage: 'a', message: 'old' })]);
    expect(job.message).toBe('new');
    expect(job.stage).toBe('b');
  });

  it('keeps phases in time order whatever order events arrive in', () => {
    const job = apply([
      update(30, { stage: 'code_generation' }),
      update(10, { stage: 'initializing' }),
      update(20, { stage: 'schema_extraction' }),
      update(25, { stage: 'schema_extraction' }),
    ]);
    expect(job.phases).toEqual([
      { stage: 'initializing', startedAt: 10 },
      { stage: 'schema_extraction', startedAt: 20 },
      { stage: 'code_generation', startedAt: 30 },
    ]);
  });

  it('turns an ETA in seconds into a time', () => {
    expect(apply([update(1000, { status: 'running', etaSeconds: 4 })]).etaAt).toBe(5000);
    expect(apply([update(1000, { status: 'running', etaSeconds: 4 }), update(2000, { status: 'completed' })]).etaAt).toBeUndefined();
  });

  it('counts protocol errors and link changes', () => {
    const job = apply([
      { ...base, at: 1, kind: 'protocol-error', error: 'bad' },
      { ...base, at: 2, kind: 'link', transport: 'sse', link: 'reconnecting', reconnect: true },
      { ...base, at: 3, kind: 'link', transport: 'polling', link: 'polling', detail: 'fell back' },
    ]);
    expect(job).toMatchObject({ protocolErrors: 1, reconnects: 1, transport: 'polling', link: 'polling', linkDetail: 'fell back', eventCount: 3 });
  });

  it("takes a finished job's step count from its final frame, even after an answer stamped with its arrival", () => {
    // the image platform's launch answer (arrival time) can come before its final frame (the platform's clock, earlier)
    const job = apply([
      update(100, { status: 'running', step: { current: 77, total: 80 } }),
      update(300, { status: 'completed', progress: 100, message: 'launch answer' }),
      update(200, { status: 'completed', progress: 100, step: { current: 80, total: 80 } }),
      update(400, { status: 'running', step: { current: 78, total: 80 } }),
    ]);
    expect(job.step).toEqual({ current: 80, total: 80 });
    expect(job.status).toBe('completed');
  });

  it('marks an id its platform knows no job by, until the first news of the job', () => {
    const missing = apply([update(1, { notFound: { answer: '404 Not found (Generation not found)', final: false } })]);
    expect(missing.notFound).toEqual({ answer: '404 Not found (Generation not found)', final: false });
    expect(displayStatus(missing)).toBe('not found');
    const started = apply([update(2, { status: 'running', progress: 5 })], missing);
    expect(started.notFound).toBeUndefined();
    expect(displayStatus(started)).toBe('running');
    // a job already seen at work is not taken for a missing one
    expect(apply([update(3, { notFound: { answer: 'late', final: false } })], started).notFound).toBeUndefined();
  });
});

describe('phaseSpans', () => {
  it('ends each phase where the next begins and marks the failing one', () => {
    const job = apply([
      update(0, { status: 'running', stage: 'initializing' }),
      update(10, { stage: 'code_generation' }),
      update(25, { status: 'failed', stage: 'failed' }),
    ]);
    expect(phaseSpans(job)).toEqual([
      { stage: 'initializing', startedAt: 0, endedAt: 10, state: 'done' },
      { stage: 'code_generation', startedAt: 10, endedAt: 25, state: 'failed' },
      { stage: 'failed', startedAt: 25, endedAt: 25, state: 'final' },
    ]);
  });

  it('leaves the current phase of a running job open', () => {
    const spans = phaseSpans(apply([update(0, { status: 'running', stage: 'initializing' }), update(5, { stage: 'code_review' })]));
    expect(spans.at(-1)).toEqual({ stage: 'code_review', startedAt: 5, endedAt: undefined, state: 'running' });
  });
});

describe('RingBuffer', () => {
  it('keeps the newest items and counts what it dropped', () => {
    const buffer = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) buffer.push(i);
    expect(buffer.toArray()).toEqual([3, 4, 5]);
    expect(buffer.dropped).toBe(2);
    expect(buffer.size).toBe(3);
  });
});

describe('platform text', () => {
  it('shows invisible and bidi controls, replaces lone surrogates, and bounds names', async () => {
    const { visibleText, visibleName } = await import('../../src/model/text');
    expect(visibleText('invoice\u202Etxt.exe')).toBe('invoice⟨U+202E⟩txt.exe');
    expect(visibleText('zero\u200Bwidth\uFEFF')).toBe('zero⟨U+200B⟩width⟨U+FEFF⟩');
    expect(visibleText('lone \uD800 surrogate')).toBe('lone \uFFFD surrogate');
    expect(visibleText('a pair 😀 stays')).toBe('a pair 😀 stays');
    expect(visibleText('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
    const long = visibleName('N'.repeat(10_000));
    expect(long.length).toBeLessThan(260);
    expect(long).toMatch(/… \(10,000 characters\)$/);
  });
});
