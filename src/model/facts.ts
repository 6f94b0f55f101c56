import { failureGroup, NO_REASON } from './failure';
import { isTerminal, type Job, type JobStatus, type PlatformKind } from './job';

/**
 * What /insights needs of a finished job, and nothing more: a few numbers and names, small
 * enough to keep 200,000 of them and read them all into a worker at once.
 */
export interface JobFacts {
  key: string;
  sourceId: string;
  platform: PlatformKind;
  status: Exclude<JobStatus, 'pending' | 'running'>;
  /** when the job was made (queued), ms since the epoch; absent when no platform said */
  createdAt?: number;
  /** when its first stage began */
  startedAt?: number;
  finishedAt: number;
  /** the failure message with its ids and numbers taken out, so alike failures group */
  failure?: string;
  /** each stage and how long it lasted, ms, in order */
  stages: [stage: string, ms: number][];
  reconnects: number;
  fallbacks: number;
  invalid: number;
  unrecognized: number;
  /** the platform's predictions of the time left against the time it really took: [predicted, real], ms */
  eta: [predicted: number, real: number][];
}

/** A finished job's facts; undefined while it runs or when nobody knows when it finished. */
export function factsOf(job: Job): JobFacts | undefined {
  if (!isTerminal(job.status) || job.finishedAt === undefined) return undefined;
  const finishedAt = job.finishedAt;
  const phases = job.phases.filter((phase) => phase.startedAt <= finishedAt);
  const stages: [string, number][] = phases.map((phase, index) => [phase.stage, Math.max(0, (phases[index + 1]?.startedAt ?? finishedAt) - phase.startedAt)]);
  const eta: [number, number][] = [];
  if (job.status === 'completed') {
    for (const [at, etaAt] of job.etaLog ?? []) if (finishedAt >= at) eta.push([Math.max(0, etaAt - at), finishedAt - at]);
  }
  return {
    key: job.key,
    sourceId: job.sourceId,
    platform: job.platform,
    status: job.status as JobFacts['status'],
    createdAt: job.createdAt,
    startedAt: phases[0]?.startedAt,
    finishedAt,
    failure: job.status === 'failed' ? failureGroup(job.error ?? NO_REASON) : undefined,
    stages,
    reconnects: job.reconnects,
    fallbacks: job.fallbacks ?? 0,
    invalid: job.protocolErrors,
    unrecognized: job.unrecognized,
    eta,
  };
}
