import type { Job } from '../src/model/job';
import { isPlain } from '../src/model/compact';
import type { LoggedEvent } from './log';
import { eventsFrame } from '../src/protocols/relayWire';

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

/** how often a viewer's events are written; off-screen jobs' status changes wait at most a second, the rest five */
export const FLUSH_MS = 50;
export const OFFSCREEN_STATUS_MS = 1000;
export const OFFSCREEN_MS = 5000;

/**
 * An event ready for every viewer: its board form and both JSON texts are made once, when a
 * viewer first needs them, not once per viewer.
 */
export class PreparedEvent {
  private boardForm: LoggedEvent | undefined | null = null;
  private wholeText: string | undefined;
  private boardText: string | undefined;

  constructor(readonly event: LoggedEvent) {}

  board(): LoggedEvent | undefined {
    if (this.boardForm === null) this.boardForm = boardEvent(this.event);
    return this.boardForm;
  }

  text(whole: boolean): string {
    if (whole) return (this.wholeText ??= JSON.stringify(this.event));
    return (this.boardText ??= JSON.stringify(this.board()));
  }
}

export const prepare = (events: readonly LoggedEvent[]) => events.map((event) => new PreparedEvent(event));

/**
 * One job's waiting board events as few as say the same: each run of plain updates with one
 * status and stage becomes its newest, carrying the highest progress and how many it stands
 * for. One new object per run, whatever its length: this runs for every viewer.
 */
export function coalesce(waiting: readonly LoggedEvent[]): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  let run: (LoggedEvent & { kind: 'update' }) | undefined;
  for (const event of waiting) {
    if (!isPlain(event)) {
      run = undefined;
      out.push(event);
      continue;
    }
    const { update } = event;
    if (run && (update.status === undefined || update.status === run.update.status) && (update.stage === undefined || update.stage === run.update.stage)) {
      const progress = Math.max(run.update.progress ?? 0, update.progress ?? 0);
      Object.assign(run.update, update);
      if (run.update.progress !== undefined) run.update.progress = progress;
      run.seq = event.seq;
      run.at = Math.max(run.at, event.at);
      run.receivedAt = event.receivedAt;
      run.merged = (run.merged ?? 0) + 1 + (event.merged ?? 0);
      continue;
    }
    // a copy: the event itself is shared by every viewer
    run = { ...event, update: { ...update } };
    out.push(run);
  }
  return out;
}

/**
 * One dashboard's multiplexed stream. Events of open jobs go whole, of visible rows as board
 * events at once, of every other job as board events coalesced (a status change within a
 * second, the rest within five). Each job's events reach the viewer in log order, so the
 * viewer drops a repeat by its sequence; the SSE id is a watermark below which everything
 * was written, so a resume loses nothing.
 */
export class Viewer {
  private open = new Set<string>();
  private visible = new Set<string>();
  /** JSON texts due now */
  private now: string[] = [];
  private later = new Map<string, LoggedEvent[]>();
  /** off-screen jobs whose status changed (or whose link did): they go within a second */
  private urgent = new Set<string>();
  /** the newest status routed per job, to tell a change from a repeat */
  private statusOf = new Map<string, string>();
  private laterFlushedAt = Date.now();
  private statusFlushedAt = Date.now();
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
    // a job that came on screen: what waited goes now, before its newer events
    for (const key of [...this.open, ...this.visible]) this.promote(key);
  }

  private promote(key: string): void {
    const waiting = this.later.get(key);
    if (!waiting) return;
    this.later.delete(key);
    this.urgent.delete(key);
    for (const event of waiting) this.now.push(JSON.stringify(event));
  }

  route(events: readonly PreparedEvent[]): void {
    for (const prepared of events) {
      const { event } = prepared;
      if (event.seq <= this.routedSeq) continue;
      this.routedSeq = event.seq;
      let changed = event.kind === 'link' || event.kind === 'protocol-error';
      if (event.kind === 'update' && event.update.status !== undefined && this.statusOf.get(event.key) !== event.update.status) {
        this.statusOf.set(event.key, event.update.status);
        changed = true;
      }
      if (this.open.has(event.key)) {
        this.promote(event.key);
        this.now.push(prepared.text(true));
        continue;
      }
      const board = prepared.board();
      if (!board) continue;
      if (this.visible.has(event.key)) {
        this.promote(event.key);
        this.now.push(prepared.text(false));
      } else {
        let waiting = this.later.get(event.key);
        if (!waiting) this.later.set(event.key, (waiting = []));
        waiting.push(board);
        if (changed) this.urgent.add(event.key);
      }
    }
  }

  /** Writes what is due; returns how many events went out. */
  flush(nowMs = Date.now()): number {
    if (!this.ready || this.closed) return 0;
    if (this.later.size && nowMs - this.statusFlushedAt >= OFFSCREEN_STATUS_MS) {
      this.statusFlushedAt = nowMs;
      const all = nowMs - this.laterFlushedAt >= OFFSCREEN_MS;
      if (all) this.laterFlushedAt = nowMs;
      for (const [key, waiting] of this.later) {
        if (!all && !this.urgent.has(key)) continue;
        for (const event of coalesce(waiting)) this.now.push(JSON.stringify(event));
        this.later.delete(key);
      }
      this.urgent.clear();
    }
    if (this.now.length === 0) return 0;
    const batch = this.now;
    this.now = [];
    let watermark = this.routedSeq;
    for (const waiting of this.later.values()) watermark = Math.min(watermark, waiting[0].seq - 1);
    this.write(eventsFrame(watermark, batch));
    this.eventsOut += batch.length;
    return batch.length;
  }
}
