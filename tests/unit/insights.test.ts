import { describe, expect, it } from 'vitest';
import { bucketFor, computeInsights, percentile, type InsightsQuery } from '../../src/insights/compute';
import { insightsQueryToParams, parseInsightsQuery } from '../../src/insights/query';
import { factsOf } from '../../src/model/facts';
import { failureGroup } from '../../src/model/failure';
import { insightsHistory, TIMEOUT } from '../fixtures/insights';
import type { JobEvent, JobUpdate } from '../../src/model/events';
import { newJob } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';

// The figures of /insights against ones worked out by hand for a small history (see the
// comments): one hour, minute bars, two sources, and a job outside the window.

const HISTORY = insightsHistory();
const HOUR: InsightsQuery = { window: 'custom', from: 0, to: 3_600_000 };

describe('insights figures', () => {
  it('counts, rates and percentiles over the window, as worked out by hand', () => {
    const insights = computeInsights(HISTORY, HOUR);
    // six jobs end in the hour: three completed, two failed, one cancelled (left out of the rates)
    expect(insights.summary).toMatchObject({ jobs: 6, completed: 3, failed: 2, cancelled: 1, successRate: 0.6, failureRate: 0.4, perHour: 6 });
    // waits (made to first stage), E has none: 0, 0, 5 s, 10 s, 30 s; nearest rank: p50 is the 3rd, p95 and p99 the 5th
    expect(insights.summary.wait).toEqual({ p50: 5_000, p95: 30_000, p99: 30_000 });
    // durations (first stage, else made, to end): 30, 60, 60, 60, 100, 120 s
    expect(insights.summary.duration).toEqual({ p50: 60_000, p95: 120_000, p99: 120_000 });
    expect(insights.sources.map((source) => [source.sourceId, source.jobs, source.successRate])).toEqual([
      ['cb', 4, 0.5],
      ['img', 2, 1],
    ]);
    // cb durations 60, 60, 100, 120 s
    expect(insights.sources[0].duration).toEqual({ p50: 60_000, p95: 120_000, p99: 120_000 });
  });

  it('per stage p50 and p95, failures grouped, and the ETA’s median absolute error per platform', () => {
    const insights = computeInsights(HISTORY, HOUR);
    const stage = (platform: string, name: string) => insights.stages.find((entry) => entry.platform === platform && entry.stage === name);
    // plan: 20, 60, 30 s → sorted 20, 30, 60
    expect(stage('codebegen', 'plan')).toEqual({ platform: 'codebegen', stage: 'plan', count: 3, p50: 30_000, p95: 60_000 });
    expect(stage('codebegen', 'write')).toEqual({ platform: 'codebegen', stage: 'write', count: 2, p50: 40_000, p95: 90_000 });
    expect(stage('imagegen', 'base_model')).toMatchObject({ count: 1, p50: 50_000, p95: 50_000 });
    // F's failure is after the window
    expect(insights.failures).toEqual([{ message: TIMEOUT, count: 2, platform: 'codebegen', sourceId: 'cb', lastAt: 1_100_000 }]);
    // codebegen: |50−60|, |20−30|, |100−120| → 10, 10, 20 s; image: |40−60| → 20 s
    expect(insights.eta.find((entry) => entry.platform === 'codebegen')).toMatchObject({ samples: 3, medianAbsErrorMs: 10_000 });
    expect(insights.eta.find((entry) => entry.platform === 'imagegen')).toMatchObject({ samples: 1, medianAbsErrorMs: 20_000, points: [[40_000, 60_000]] });
  });

  it('puts each job in the bar of the minute it ended, with the connection troubles of its source', () => {
    const insights = computeInsights(HISTORY, HOUR);
    expect(insights.bucketMs).toBe(60_000);
    expect(insights.buckets).toHaveLength(60);
    expect(insights.buckets[1]).toMatchObject({ start: 60_000, completed: 2, failed: 0, cancelled: 0, duration: { p50: 60_000 } });
    expect(insights.buckets[2]).toMatchObject({ failed: 1 });
    expect(insights.buckets[3]).toMatchObject({ completed: 1, cancelled: 1 });
    expect(insights.buckets[18]).toMatchObject({ failed: 1 });
    const total = insights.buckets.reduce((sum, bucket) => sum + bucket.completed + bucket.failed + bucket.cancelled, 0);
    expect(total).toBe(6);
    const cb = insights.issues.find((entry) => entry.sourceId === 'cb')!;
    expect(cb.totals).toEqual({ reconnects: 1, fallbacks: 1, invalid: 2, unrecognized: 0 });
    expect([cb.reconnects[1], cb.fallbacks[2], cb.invalid[2]]).toEqual([1, 1, 2]);
    expect(insights.issues.find((entry) => entry.sourceId === 'img')!.unrecognized[1]).toBe(3);
  });

  it('narrows every figure to a platform or a source', () => {
    expect(computeInsights(HISTORY, { ...HOUR, platform: 'imagegen' }).summary).toMatchObject({ jobs: 2, completed: 1, cancelled: 1, successRate: 1 });
    const cb = computeInsights(HISTORY, { ...HOUR, source: 'cb' });
    expect(cb.summary.jobs).toBe(4);
    expect(cb.stages.every((entry) => entry.platform === 'codebegen')).toBe(true);
    expect(computeInsights(HISTORY, { ...HOUR, from: 4_000_000, to: 5_000_000 }).summary).toMatchObject({ jobs: 0, successRate: undefined, duration: {} });
  });

  it('nearest-rank percentiles and round bar lengths', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([], 50)).toBeUndefined();
    expect(bucketFor(3_600_000)).toBe(60_000);
    expect(bucketFor(86_400_000)).toBe(30 * 60_000);
    expect(bucketFor(7 * 86_400_000)).toBe(180 * 60_000);
  });
});

describe('a job’s facts', () => {
  it('stage durations, the failure’s group and the ETA predictions, from the job as the reducer built it', () => {
    const update = (at: number, change: JobUpdate): JobEvent => ({
      key: 'cb/J',
      sourceId: 'cb',
      jobId: 'J',
      platform: 'codebegen',
      at,
      receivedAt: at,
      kind: 'update',
      update: change,
    });
    const job = [
      update(0, { status: 'pending', createdAt: 0 }),
      update(1_000, { status: 'running', stage: 'plan', progress: 0, etaSeconds: 60 }),
      update(11_000, { stage: 'write', progress: 50, etaSeconds: 40 }),
      // the same tenth of progress: one prediction per tenth is enough
      update(21_000, { progress: 55, etaSeconds: 30 }),
      update(41_000, { status: 'completed' }),
    ].reduce(reduceJob, newJob('cb', 'J', 'codebegen'));
    expect(factsOf(job)).toMatchObject({
      status: 'completed',
      createdAt: 0,
      startedAt: 1_000,
      finishedAt: 41_000,
      stages: [
        ['plan', 10_000],
        ['write', 30_000],
      ],
      // predicted 60 s at 1 s (took 40 s), 40 s at 11 s (took 30 s)
      eta: [
        [60_000, 40_000],
        [40_000, 30_000],
      ],
    });
    expect(factsOf({ ...job, status: 'running' })).toBeUndefined();
  });

  it('groups failures whatever their ids and numbers', () => {
    expect(failureGroup('Job 3f2a9c1e-1111-2222-3333-444455556666 failed after 12.5 s on gpu-7')).toBe('Job ‹id› failed after ‹n› s on ‹id›');
    expect(failureGroup('Job 9e0f1c2d-aaaa-bbbb-cccc-ddddeeeeffff failed after 3 s on gpu-12')).toBe('Job ‹id› failed after ‹n› s on ‹id›');
  });

  it('reads its window from the URL and writes it back', () => {
    const now = 10_000_000_000;
    expect(parseInsightsQuery({ window: '7d', platform: 'imagegen' }, now)).toEqual({
      window: '7d',
      from: now - 7 * 86_400_000,
      to: now,
      platform: 'imagegen',
      source: undefined,
    });
    expect(parseInsightsQuery({ window: 'nonsense', platform: 'nope' }, now)).toMatchObject({ window: '24h', from: now - 86_400_000, platform: undefined });
    const custom = parseInsightsQuery({ window: 'custom', from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T12:00:00.000Z' }, now);
    expect(custom).toMatchObject({ window: 'custom', from: Date.parse('2026-11-30T10:00:00Z'), to: Date.parse('2026-11-30T12:00:00Z') });
    expect(insightsQueryToParams(custom)).toEqual({ window: 'custom', from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T12:00:00.000Z' });
    // a custom window the wrong way round falls back to the default
    expect(parseInsightsQuery({ window: 'custom', from: '2026-11-30T12:00:00Z', to: '2026-11-30T10:00:00Z' }, now).window).toBe('24h');
  });
});
