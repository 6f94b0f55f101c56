import type { JobEvent } from '../model/events';

/** one-shot timer that does not hold a Node process open (the relay, the tests) */
function after(ms: number, run: () => void): ReturnType<typeof setTimeout> {
  const timer = setTimeout(run, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * An id the platform could not vouch for (a stream that answers any id with heartbeats): its
 * stream is watched for a sign of a job, and after `waitMs` with none the feed is told what it
 * saw instead (heartbeats, a "waiting" notice, nothing).
 */
export class SignWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeats = 0;
  private lastNotice: string | undefined;

  constructor(
    readonly waitMs: number,
    private readonly onNoSign: (sawInstead: string) => void,
  ) {}

  start(): void {
    clearTimeout(this.timer);
    this.timer = after(this.waitMs, () => {
      this.timer = undefined;
      const notice = this.lastNotice ? `“${this.lastNotice.slice(0, 160)}”` : '';
      this.onNoSign([this.heartbeats ? 'heartbeats' : '', notice].filter(Boolean).join(' and '));
    });
  }

  get watching(): boolean {
    return this.timer !== undefined;
  }

  /** What the stream sent: news of the job ends the watch; the rest is what it says it saw. */
  note(events: readonly JobEvent[]): void {
    if (!this.watching) return;
    for (const event of events) {
      if (event.kind === 'update' && (event.update.status || event.update.stage || event.update.progress !== undefined || event.update.step)) {
        this.stop();
        return;
      }
      if (event.kind === 'heartbeat') this.heartbeats++;
      else if (event.kind === 'notice') this.lastNotice = event.text;
    }
  }

  /** a sign of life that is no event (an SSE comment, a repeated socket frame) */
  heartbeat(): void {
    this.heartbeats++;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The row of a finished job whose stream sends its history again: held until that history has
 * come, so the page is built in the order it was live (stages before the end, not dropped as
 * after it). Released to end the job if the stream does not: closed, refused or silent for
 * `waitMs` after each stream starts.
 */
export class HeldEnd {
  private events: JobEvent[] | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly waitMs: number,
    private readonly onDue: () => void,
  ) {}

  hold(events: readonly JobEvent[]): void {
    this.events = events.map((event) => ({ ...event, raw: undefined }));
    this.arm();
  }

  /** a stream starts: it has `waitMs` to send the history */
  arm(): void {
    clearTimeout(this.timer);
    if (this.events) this.timer = after(this.waitMs, this.onDue);
  }

  /** the held row, taken (none once the stream told the end itself) */
  take(): JobEvent[] | undefined {
    const { events } = this;
    this.drop();
    return events;
  }

  /** the stream told the end itself: the held row is not needed */
  drop(): void {
    this.stop();
    this.events = undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
