import type { JobEvent } from '../model/events';
import { jobKey } from '../model/job';
import type { Dialect, JobRef, Launched } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import type { JobFeed } from './jobFeed';

/** How long a platform may take to open the stream a job's start request needs open first. */
export const STREAM_BEFORE_START_MS = 5000;

/** Whether a job can be followed at all (a stream or a status to poll). */
export function followable(dialect: Dialect, source: Source, ref: JobRef): boolean {
  return dialect.streamRequest(source, ref).transport !== 'none' || (!!dialect.parseStatus && dialect.statusRequest?.(source, ref) !== undefined);
}

/**
 * For platforms that push progress only to a stream already open: open it, then send the
 * start request. Started is when the first progress arrives; a start that fails fails
 * before that (the promise rejects), and a failure after it reaches `onLateFailure`.
 */
export async function startWhenListening(
  feed: JobFeed,
  start: NonNullable<Launched['start']>,
  {
    fetch: fetchImpl,
    onAnswer,
    onLateFailure,
  }: { fetch?: typeof fetch; onAnswer: (events: Launched['events']) => void; onLateFailure: (message: string) => void },
): Promise<void> {
  await Promise.race([feed.whenOpen, new Promise((resolve) => setTimeout(resolve, STREAM_BEFORE_START_MS))]);
  const answer = start(fetchImpl);
  await Promise.race([answer, feed.firstUpdate]);
  answer.then(onAnswer, (error: { message?: string }) => onLateFailure(`The start request failed: ${error.message ?? String(error)}`));
}

/** A job whose start failed after it was accepted: failed, with why. */
export function startFailedEvent(source: Source, jobId: string, error: string): JobEvent {
  const now = Date.now();
  return {
    key: jobKey(source.id, jobId),
    sourceId: source.id,
    jobId,
    platform: source.kind,
    at: now,
    receivedAt: now,
    kind: 'update',
    label: 'result',
    update: { status: 'failed', error },
  };
}
