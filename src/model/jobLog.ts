import type { JobEvent } from './events';
import { RingBuffer } from './ringBuffer';

/** events kept in memory for the job the operator has open, for its log */
export const EVENT_LOG_CAPACITY = 1000;
/**
 * events kept in memory for every other job: a million events across a thousand jobs must fit
 * in a bounded heap. The rest is in the history (IndexedDB) and is read back when the job opens.
 */
export const BACKGROUND_LOG_CAPACITY = 100;
/**
 * events kept in memory for a finished job that is not on screen, when the history has them
 * all: a board left open for hours holds thousands of finished jobs.
 */
export const FINISHED_LOG_CAPACITY = 10;

/** Two copies of one job's log as one (what another tab or the feed worker holds, and this page's): each event once, in arrival order. */
export function mergedLog(theirs: readonly JobEvent[], mine: readonly JobEvent[], capacity: number): RingBuffer<JobEvent> {
  const bySeq = new Map<number, JobEvent>();
  const unordered: JobEvent[] = [];
  for (const event of [...theirs, ...mine]) {
    if (event.seq === undefined) unordered.push(event);
    else bySeq.set(event.seq, event);
  }
  const log = new RingBuffer<JobEvent>(capacity);
  for (const event of [...bySeq.values()].sort((a, b) => a.seq! - b.seq!)) log.push(event);
  for (const event of unordered) log.push(event);
  return log;
}

/** A job's log with what the history holds of it before what is in memory, which was stored too (or is about to be): each event once. */
export function withStored(stored: readonly JobEvent[], inMemory: readonly JobEvent[], capacity: number): RingBuffer<JobEvent> {
  const seen = new Set(inMemory.map((event) => event.seq));
  const log = new RingBuffer<JobEvent>(capacity);
  for (const event of stored) if (event.seq === undefined || !seen.has(event.seq)) log.push(event);
  for (const event of inMemory) log.push(event);
  return log;
}
