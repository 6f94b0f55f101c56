import type { JobEvent } from './events';

// fields where the newest value is all that counts (progress: the highest)
const PLAIN_UPDATE_FIELDS = new Set(['status', 'progress', 'stage', 'message', 'currentFile', 'etaSeconds', 'step', 'output']);
export const isPlain = (event: JobEvent): event is Extract<JobEvent, { kind: 'update' }> =>
  event.kind === 'update' && Object.keys(event.update).every((field) => PLAIN_UPDATE_FIELDS.has(field));

/**
 * A job's plain update folded into the plain update before it, when they agree on status and
 * stage: the result stands for both (`merged` counts how many). Undefined when they cannot be
 * merged (one is not plain, or the status or stage changed).
 */
function mergePlain<E extends JobEvent>(previous: E, event: E): E | undefined {
  if (!isPlain(previous) || !isPlain(event) || previous.key !== event.key) return undefined;
  const { update } = event;
  if ((update.status !== undefined && update.status !== previous.update.status) || (update.stage !== undefined && update.stage !== previous.update.stage)) {
    return undefined;
  }
  const progress = Math.max(previous.update.progress ?? 0, update.progress ?? 0);
  return {
    ...event,
    at: Math.max(previous.at, event.at),
    update: { ...previous.update, ...update, ...(previous.update.progress !== undefined || update.progress !== undefined ? { progress } : {}) },
    merged: (previous.merged ?? 0) + 1 + (event.merged ?? 0),
  };
}

/**
 * A flood's queue made shorter without losing what it says: a job's plain update is merged
 * into the next one of the same status and stage (nothing else of that job in between), so
 * phases, files, chunks, samples and status changes all survive; the merged event counts how
 * many it stands for. Order between jobs does not matter; within a job it is kept.
 */
export function compactQueue<E extends JobEvent>(queue: readonly E[]): E[] {
  const out: E[] = [];
  const lastPlain = new Map<string, number>();
  for (const event of queue) {
    if (!isPlain(event)) {
      lastPlain.delete(event.key);
      out.push(event);
      continue;
    }
    const index = lastPlain.get(event.key);
    const merged = index === undefined ? undefined : mergePlain(out[index], event);
    if (merged) {
      out[index!] = merged;
      continue;
    }
    lastPlain.set(event.key, out.length);
    out.push(event);
  }
  return out;
}
