import type { PlatformKind } from '../model/job';
import type { JobFacts } from '../model/facts';

// The figures of /insights from finished jobs' facts, in one pass over the window. Pure, so
// the worker runs it off the main thread and the tests check it against figures worked out
// by hand.

export const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS | 'custom';

export interface InsightsQuery {
  window: WindowName;
  /** ms since the epoch, inclusive */
  from: number;
  /** ms since the epoch, exclusive */
  to: number;
  platform?: PlatformKind;
  source?: string;
}

const MINUTE = 60_000;
const NICE_BUCKETS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440].map((minutes) => minutes * MINUTE);

/** About 30 to 60 bars whatever the window, each a round length. */
export function bucketFor(spanMs: number): number {
  return NICE_BUCKETS.find((size) => spanMs / size <= 60) ?? Math.ceil(spanMs / 60 / 86_400_000) * 86_400_000;
}

export interface Percentiles {
  p50?: number;
  p95?: number;
  p99?: number;
}

/** Nearest-rank percentile of ascending values: the smallest value with at least p% at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Rearranges values[from..to] so that values[k] is the k-th smallest (Hoare's quickselect), O(n). */
function select(values: Float64Array, k: number, from: number, to: number): void {
  let left = from;
  let right = to;
  while (right > left) {
    // median of three as the pivot: sorted or reversed input stays linear
    const mid = (left + right) >>> 1;
    const a = values[left];
    const b = values[mid];
    const c = values[right];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/** Nearest-rank percentiles without sorting: one selection per rank, each within what the last left. */
function percentilesOf(values: ArrayLike<number>, ps: readonly number[]): (number | undefined)[] {
  const n = values.length;
  if (n === 0) return ps.map(() => undefined);
  const copy = Float64Array.from(values);
  let from = 0;
  return ps.map((p) => {
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    if (rank >= from) {
      select(copy, rank, from, n - 1);
      from = rank;
    }
    return copy[rank];
  });
}

function percentiles(values: number[]): Percentiles {
  const [p50, p95, p99] = percentilesOf(values, [50, 95, 99]);
  return { p50, p95, p99 };
}

export interface GroupStats {
  sourceId?: string;
  platform?: PlatformKind;
  jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** completed of those that ended by themselves (cancelled ones left out), 0-1 */
  successRate?: number;
  failureRate?: number;
  /** finished jobs per hour over the window */
  perHour: number;
  /** from made to first stage */
  wait: Percentiles;
  /** from first stage (else from made) to the end */
  duration: Percentiles;
}

export interface Bucket {
  start: number;
  completed: number;
  failed: number;
  cancelled: number;
  duration: Percentiles;
}

export interface StageStats {
  platform: PlatformKind;
  stage: string;
  count: number;
  p50?: number;
  p95?: number;
}

export interface FailureGroup {
  message: string;
  count: number;
  platform: PlatformKind;
  sourceId: string;
  lastAt: number;
}

export interface EtaAccuracy {
  platform: PlatformKind;
  /** predictions checked */
  samples: number;
  /** median of |predicted − real| remaining time, ms */
  medianAbsErrorMs?: number;
  /** [predicted, real] remaining, ms, at most MAX_ETA_POINTS of them, evenly picked */
  points: [number, number][];
}

export interface SourceIssues {
  sourceId: string;
  platform: PlatformKind;
  /** per bucket */
  reconnects: number[];
  fallbacks: number[];
  invalid: number[];
  unrecognized: number[];
  totals: { reconnects: number; fallbacks: number; invalid: number; unrecognized: number };
}

export interface Insights {
  query: InsightsQuery;
  bucketMs: number;
  buckets: Bucket[];
  summary: GroupStats;
  sources: GroupStats[];
  stages: StageStats[];
  failures: FailureGroup[];
  eta: EtaAccuracy[];
  issues: SourceIssues[];
}

const MAX_ETA_POINTS = 400;
const MAX_FAILURE_GROUPS = 20;

const STATUSES = ['completed', 'failed', 'cancelled'] as const;

/**
 * The facts as columns: typed arrays in end-time order, names as small integers. A window is a
 * tight loop over numbers, not over 100,000 objects of varying shapes read from IndexedDB.
 */
export class FactTable {
  readonly size: number;
  readonly finishedAt: Float64Array;
  /** first stage, else made; NaN when unknown */
  readonly begin: Float64Array;
  /** made to first stage; NaN when unknown */
  readonly wait: Float64Array;
  /** index in STATUSES */
  readonly status: Uint8Array;
  readonly source: Uint16Array;
  readonly platform: Uint8Array;
  readonly troubles: Uint32Array;
  /** index in `failures`, or -1 */
  readonly failure: Int32Array;
  /** each job's stages are stageName/stageMs[stageStart[i] .. stageStart[i + 1]) */
  readonly stageStart: Uint32Array;
  readonly stageName: Uint16Array;
  readonly stageMs: Float64Array;
  readonly etaStart: Uint32Array;
  readonly etaPredicted: Float64Array;
  readonly etaReal: Float64Array;
  readonly sources: { id: string; platform: PlatformKind }[] = [];
  readonly platforms: PlatformKind[] = [];
  /** per stage name index: its platform and name */
  readonly stages: { platform: number; stage: string }[] = [];
  readonly failures: string[] = [];

  /** @param facts sorted by finishedAt */
  constructor(facts: readonly JobFacts[]) {
    const n = facts.length;
    this.size = n;
    this.finishedAt = new Float64Array(n);
    this.begin = new Float64Array(n);
    this.wait = new Float64Array(n);
    this.status = new Uint8Array(n);
    this.source = new Uint16Array(n);
    this.platform = new Uint8Array(n);
    this.troubles = new Uint32Array(n * 4);
    this.failure = new Int32Array(n);
    this.stageStart = new Uint32Array(n + 1);
    this.etaStart = new Uint32Array(n + 1);
    let stageCount = 0;
    let etaCount = 0;
    for (const fact of facts) {
      stageCount += fact.stages.length;
      etaCount += fact.eta.length;
    }
    this.stageName = new Uint16Array(stageCount);
    this.stageMs = new Float64Array(stageCount);
    this.etaPredicted = new Float64Array(etaCount);
    this.etaReal = new Float64Array(etaCount);
    const sourceIndex = new Map<string, number>();
    const platformIndex = new Map<PlatformKind, number>();
    const stageIndex = new Map<string, number>();
    const failureIndex = new Map<string, number>();
    const indexOf = <K>(map: Map<K, number>, key: K, add: () => void) => {
      let index = map.get(key);
      if (index === undefined) {
        map.set(key, (index = map.size));
        add();
      }
      return index;
    };
    let stage = 0;
    let eta = 0;
    for (let i = 0; i < n; i++) {
      const fact = facts[i];
      this.finishedAt[i] = fact.finishedAt;
      const begin = fact.startedAt ?? fact.createdAt;
      this.begin[i] = begin !== undefined && fact.finishedAt >= begin ? begin : NaN;
      this.wait[i] = fact.createdAt !== undefined && fact.startedAt !== undefined && fact.startedAt >= fact.createdAt ? fact.startedAt - fact.createdAt : NaN;
      this.status[i] = STATUSES.indexOf(fact.status);
      const platform = indexOf(platformIndex, fact.platform, () => this.platforms.push(fact.platform));
      this.platform[i] = platform;
      this.source[i] = indexOf(sourceIndex, fact.sourceId, () => this.sources.push({ id: fact.sourceId, platform: fact.platform }));
      this.troubles[i * 4] = fact.reconnects;
      this.troubles[i * 4 + 1] = fact.fallbacks;
      this.troubles[i * 4 + 2] = fact.invalid;
      this.troubles[i * 4 + 3] = fact.unrecognized;
      this.failure[i] = fact.failure === undefined ? -1 : indexOf(failureIndex, fact.failure, () => this.failures.push(fact.failure!));
      this.stageStart[i] = stage;
      for (const [name, ms] of fact.stages) {
        this.stageName[stage] = indexOf(stageIndex, `${platform} ${name}`, () => this.stages.push({ platform, stage: name }));
        this.stageMs[stage++] = ms;
      }
      this.etaStart[i] = eta;
      for (const [predicted, real] of fact.eta) {
        this.etaPredicted[eta] = predicted;
        this.etaReal[eta++] = real;
      }
    }
    this.stageStart[n] = stage;
    this.etaStart[n] = eta;
  }

  /** The first row whose finishedAt is at or after `time`. */
  lowerBound(time: number): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.finishedAt[mid] < time) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** Counts and the durations and waits of one group of jobs (all, one bar, one source). */
class Group {
  readonly counts = [0, 0, 0];
  readonly waits: number[] = [];
  readonly durations: number[] = [];

  /** NaN for a duration or wait nobody knows */
  add(state: number, duration: number, waited: number): void {
    this.counts[state]++;
    if (duration === duration) this.durations.push(duration);
    if (waited === waited) this.waits.push(waited);
  }

  stats(hours: number, sourceId?: string, platform?: PlatformKind): GroupStats {
    const [completed, failed, cancelled] = this.counts;
    const jobs = completed + failed + cancelled;
    const ended = completed + failed;
    return {
      sourceId,
      platform,
      jobs,
      completed,
      failed,
      cancelled,
      successRate: ended ? completed / ended : undefined,
      failureRate: ended ? failed / ended : undefined,
      perHour: jobs / hours,
      wait: percentiles(this.waits),
      duration: percentiles(this.durations),
    };
  }
}

const TROUBLES = ['reconnects', 'fallbacks', 'invalid', 'unrecognized'] as const;
const FAILURE_SPAN = 2 ** 32;

/** Every figure of /insights for the query, from facts sorted by finishedAt (or their table). */
export function computeInsights(facts: readonly JobFacts[] | FactTable, query: InsightsQuery): Insights {
  const table = facts instanceof FactTable ? facts : new FactTable(facts);
  const span = query.to - query.from;
  const bucketMs = bucketFor(span);
  const bucketCount = Math.max(1, Math.ceil(span / bucketMs));
  const bucketGroups = Array.from({ length: bucketCount }, () => new Group());
  const all = new Group();
  const sourceGroups = table.sources.map(() => new Group());
  const sourceSeen = new Uint8Array(table.sources.length);
  const troubles = table.sources.map(() => TROUBLES.map(() => new Array<number>(bucketCount).fill(0)));
  const stageValues: number[][] = table.stages.map(() => []);
  const failureCounts = new Map<number, { count: number; lastAt: number }>();
  // source and failure in one number key: failure indexes stay below 2^32
  const failureKey = (source: number, failure: number) => source * FAILURE_SPAN + failure;
  /** per platform, the rows of etaPredicted/etaReal in the window */
  const etaRows: number[][] = table.platforms.map(() => []);
  const platformFilter = query.platform === undefined ? -1 : table.platforms.indexOf(query.platform);
  const sourceFilter = query.source === undefined ? -1 : table.sources.findIndex((source) => source.id === query.source);
  const filteredOut = (query.platform !== undefined && platformFilter < 0) || (query.source !== undefined && sourceFilter < 0);

  const end = filteredOut ? 0 : table.lowerBound(query.to);
  const { finishedAt, begin, wait, status, source, platform, failure, stageStart, stageName, stageMs, etaStart, etaPredicted, etaReal } = table;
  for (let i = table.lowerBound(query.from); i < end; i++) {
    if (platformFilter >= 0 && platform[i] !== platformFilter) continue;
    if (sourceFilter >= 0 && source[i] !== sourceFilter) continue;
    const at = finishedAt[i];
    const bucket = Math.min(bucketCount - 1, Math.floor((at - query.from) / bucketMs));
    const state = status[i];
    const from = source[i];
    const duration = at - begin[i];
    const waited = wait[i];
    all.add(state, duration, waited);
    bucketGroups[bucket].add(state, duration, waited);
    sourceGroups[from].add(state, duration, waited);
    sourceSeen[from] = 1;
    for (let stage = stageStart[i]; stage < stageStart[i + 1]; stage++) stageValues[stageName[stage]].push(stageMs[stage]);
    if (failure[i] >= 0) {
      const key = failureKey(from, failure[i]);
      const entry = failureCounts.get(key);
      if (entry) {
        entry.count++;
        entry.lastAt = at;
      } else failureCounts.set(key, { count: 1, lastAt: at });
    }
    for (let eta = etaStart[i]; eta < etaStart[i + 1]; eta++) etaRows[platform[i]].push(eta);
    for (let kind = 0; kind < 4; kind++) troubles[from][kind][bucket] += table.troubles[i * 4 + kind];
  }

  const hours = span / 3_600_000;
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    query,
    bucketMs,
    buckets: bucketGroups.map((group, index) => {
      const stats = group.stats(bucketMs / 3_600_000);
      return { start: query.from + index * bucketMs, completed: stats.completed, failed: stats.failed, cancelled: stats.cancelled, duration: stats.duration };
    }),
    summary: all.stats(hours),
    sources: sourceGroups
      .flatMap((group, index) => (sourceSeen[index] ? [group.stats(hours, table.sources[index].id, table.sources[index].platform)] : []))
      .sort((a, b) => b.jobs - a.jobs),
    stages: table.stages.flatMap(({ platform, stage }, index) => {
      const values = stageValues[index];
      if (values.length === 0) return [];
      const [p50, p95] = percentilesOf(values, [50, 95]);
      return [{ platform: table.platforms[platform], stage, count: values.length, p50, p95 }];
    }),
    failures: [...failureCounts]
      .map(([key, { count, lastAt }]) => {
        const from = Math.floor(key / FAILURE_SPAN);
        return { message: table.failures[key % FAILURE_SPAN], count, platform: table.sources[from].platform, sourceId: table.sources[from].id, lastAt };
      })
      .sort((a, b) => b.count - a.count || b.lastAt - a.lastAt)
      .slice(0, MAX_FAILURE_GROUPS),
    eta: table.platforms.flatMap((platform, index) => {
      const rows = etaRows[index];
      if (rows.length === 0) return [];
      const errors = new Float64Array(rows.length);
      for (let row = 0; row < rows.length; row++) errors[row] = Math.abs(etaPredicted[rows[row]] - etaReal[rows[row]]);
      const step = Math.max(1, rows.length / MAX_ETA_POINTS);
      const points: [number, number][] = [];
      for (let at = 0; at < rows.length && points.length < MAX_ETA_POINTS; at += step) {
        const row = rows[Math.floor(at)];
        points.push([etaPredicted[row], etaReal[row]]);
      }
      return [{ platform, samples: rows.length, medianAbsErrorMs: percentilesOf(errors, [50])[0], points }];
    }),
    issues: table.sources.flatMap((entry, index) => {
      if (!sourceSeen[index]) return [];
      const [reconnects, fallbacks, invalid, unrecognized] = troubles[index];
      return [
        {
          sourceId: entry.id,
          platform: entry.platform,
          reconnects,
          fallbacks,
          invalid,
          unrecognized,
          totals: { reconnects: sum(reconnects), fallbacks: sum(fallbacks), invalid: sum(invalid), unrecognized: sum(unrecognized) },
        },
      ];
    }),
  };
}
