import { failureGroup, NO_REASON } from './failure';
import { isPlatformKind, JOB_STATUSES, type Job, type JobStatus, type PlatformKind } from './job';

/** The board's filters and sort, as they live in its URL query. */
export interface BoardQuery {
  status?: JobStatus;
  platform?: PlatformKind;
  source?: string;
  stage?: string;
  q?: string;
  /** jobs that ended in [from, to), ms since the epoch (a bar on /insights) */
  finished?: { from: number; to: number };
  /** failed jobs whose failure is in this group (see failureGroup) */
  failure?: string;
  sort: BoardSort;
}

export const BOARD_SORTS = ['newest', 'oldest', 'progress', 'eta', 'status'] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

type RawQuery = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

export function parseBoardQuery(query: RawQuery): BoardQuery {
  const status = text(query.status);
  const platform = text(query.platform);
  const sort = text(query.sort);
  return {
    status: status && (JOB_STATUSES as readonly string[]).includes(status) ? (status as JobStatus) : undefined,
    platform: isPlatformKind(platform) ? platform : undefined,
    source: text(query.source),
    stage: text(query.stage),
    q: text(query.q),
    finished: parseRange(text(query.finished)),
    failure: text(query.failure),
    sort: sort && (BOARD_SORTS as readonly string[]).includes(sort) ? (sort as BoardSort) : 'newest',
  };
}

/** The query as URL parameters: defaults left out, so the plain board is plain `/`. */
export function boardQueryToParams(query: BoardQuery): Record<string, string> {
  const params: Record<string, string> = {};
  for (const key of ['status', 'platform', 'source', 'stage', 'q'] as const) {
    const value = query[key];
    if (value) params[key] = value;
  }
  if (query.finished) params.finished = `${query.finished.from}-${query.finished.to}`;
  if (query.failure) params.failure = query.failure;
  if (query.sort !== 'newest') params.sort = query.sort;
  return params;
}

function parseRange(value: string | undefined): BoardQuery['finished'] {
  const match = value?.match(/^(\d+)-(\d+)$/);
  if (!match) return undefined;
  const [from, to] = [Number(match[1]), Number(match[2])];
  return from < to ? { from, to } : undefined;
}

const STATUS_ORDER: Record<JobStatus, number> = { running: 0, pending: 1, failed: 2, cancelled: 3, completed: 4 };

/** Filters and sorts jobs (given newest first) as the board shows them. */
export function applyBoardQuery(jobs: readonly Job[], query: BoardQuery): Job[] {
  const needle = query.q?.trim().toLowerCase();
  const matches = jobs.filter((job) => {
    if (query.status && job.status !== query.status) return false;
    if (query.platform && job.platform !== query.platform) return false;
    if (query.source && job.sourceId !== query.source) return false;
    if (query.stage && job.stage !== query.stage) return false;
    if (query.finished && (job.finishedAt === undefined || job.finishedAt < query.finished.from || job.finishedAt >= query.finished.to)) return false;
    if (query.failure && (job.status !== 'failed' || failureGroup(job.error ?? NO_REASON) !== query.failure)) return false;
    if (!needle) return true;
    return job.title.toLowerCase().includes(needle) || job.jobId.toLowerCase().includes(needle) || (job.message?.toLowerCase().includes(needle) ?? false);
  });
  switch (query.sort) {
    case 'oldest':
      return matches.reverse();
    case 'progress':
      return matches.sort((a, b) => b.progress - a.progress);
    case 'eta':
      return matches.sort((a, b) => (a.etaAt ?? Number.MAX_SAFE_INTEGER) - (b.etaAt ?? Number.MAX_SAFE_INTEGER));
    case 'status':
      return matches.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
    default:
      return matches;
  }
}
