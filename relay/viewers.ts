import type { JobEvent } from '../src/model/events';
import type { Job } from '../src/model/job';
import { compactQueue } from '../src/model/compact';
import type { LoggedEvent } from './log';

/** what a viewer's board needs of an update; the rest (code, samples, files) waits until the job is opened */
const DETAIL_FIELDS = ['chunk', 'sample', 'fileStarted', 'fileDone', 'filesSnapshot', 'output'] as const;

/**
 * An event as a board sees it: without its raw wire text and without the bulky detail only a
 * job page shows. Undefined when nothing is left.
 */
export function boardEvent(event: LoggedEvent): LoggedEvent | undefined {
  const { raw: _raw, ...rest } = event;
  if (rest.kind !== 'update') return rest as LoggedEvent;
  if (!DETAIL_FIELDS.some((field) => field in rest.update)) return rest as LoggedEvent;
  const update = { ...rest.update };
  for (const field of DETAIL_FIELDS) delete update[field];
  return Object.keys(update).length ? ({ ...rest, update } as LoggedEvent) : undefined;
}

/** A job as a new viewer's board first sees it: the summary, without files, samples or output. */
export function boardJob(job: Job): Job {
  return { ...job, files: {}, fileOrder: [], samples: [], output: undefined, activeFile: undefined };
}

export interface ViewerInterest {
  /** jobs open on a job page: every event, whole */
  open?: readonly string[];
  /** rows on screen: board events at once */
  visible?: readonly string[];
}

/** how often a viewer's events are written, and how often off-screen jobs' coalesced ones */
export const FLUSH_MS = 50;
export const OFFSCREEN_MS = 1000;

/**
 * One dashboard's multiplexed stream. Events of open jobs go whole, of visible rows as board
 * events at once, of every other job as board events coalesced once a second. Each job's
 * events reach the viewer in log order, so the viewer drops a repeat by its sequence; the
 * SSE id is a watermark below which everything was written, so a resume loses nothing.
 */
export class Viewer {
  private open = new Set<string>();
  private visible = new Set<string>();
  private now: LoggedEvent[] = [];
  private later = new Map<string, LoggedEvent[]>();
  private laterFlushedAt = Date.now();
  /** every event up to here was routed */
  private routedSeq: number;
  /** paused while its backlog is written */
  ready = false;
  closed = false;
  eventsOut = 0;

  constructor(
    readonly id: string,
    private readonly write: (frame: string) => boolean,
    fromSeq: number,
    interest: ViewerInterest,
  ) {
    this.routedSeq = fromSeq;
    this.subscribe(interest);
  }

  subscribe({ open, visible }: ViewerInterest): void {
    if (open) this.open = new Set(open);
    if (visible) this.visible = new Set(visible);
    // a job that came on screen: what waited for the next second goes now, in order
    for (const key of [...this.open, ...this.visible]) this.promote(key);
  }

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  private promote(key: string): void {
    const waiting = this.later.get(key);
    if (!waiting) return;
    this.later.delete(key);
    this.now.push(...waiting);
  }

  route(events: readonly LoggedEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.routedSeq) continue;
      this.routedSeq = event.seq;
      if (this.open.has(event.key)) {
        this.promote(event.key);
        this.now.push(event);
        continue;
      }
      const board = boardEvent(event);
      if (!board) continue;
      if (this.visible.has(event.key)) {
        this.promote(event.key);
        this.now.push(board);
      } else {
        let waiting = this.later.get(event.key);
        if (!waiting) this.later.set(event.key, (waiting = []));
        waiting.push(board);
      }
    }
  }

  /** Writes what is due; returns how many events went out. */
  flush(nowMs = Date.now()): number {
    if (!this.ready || this.closed) return 0;
    if (nowMs - this.laterFlushedAt >= OFFSCREEN_MS && this.later.size) {
      this.laterFlushedAt = nowMs;
      for (const waiting of this.later.values()) this.now.push(...(compactQueue(waiting) as LoggedEvent[]));
      this.later.clear();
    }
    if (this.now.length === 0) return 0;
    const batch = this.now;
    this.now = [];
    let watermark = this.routedSeq;
    for (const waiting of this.later.values()) watermark = Math.min(watermark, waiting[0].seq - 1);
    this.write(`id: ${watermark}\nevent: events\ndata: ${JSON.stringify(batch)}\n\n`);
    this.eventsOut += batch.length;
    return batch.length;
  }
}

export type { JobEvent };
