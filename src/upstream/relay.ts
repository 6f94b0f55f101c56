import type { JobFeed } from '../feeds/jobFeed';
import type { RelayConnections } from '../feeds/feedConnection';
import { RelayLink, type RelayConfig, type RelayHealth } from '../feeds/relayLink';
import type { JobFacts } from '../model/facts';
import type { JobEvent } from '../model/events';
import { isTerminal, jobKey, type Job } from '../model/job';
import type { Source } from '../protocols/source';
import type { BoardPort, Upstream } from './upstream';

export interface RelayBoardPort extends BoardPort {
  /** the board as the relay has it: jobs without files or samples */
  adopt(jobs: Job[]): void;
  /** a job replaced by the one its whole history builds; queued events up to its newest are dropped */
  rebuild(key: string, history: JobEvent[]): void;
  onHealth(health: RelayHealth): void;
  /** every job as the board has it now, for another tab of this browser that joins */
  jobs(): Job[];
}

/** A relay follows the platforms for every viewer: this page holds one stream, to it, and connects to no platform. */
export class RelayUpstream implements Upstream {
  readonly keepsHistory = false;
  readonly writesHistory = false;
  private readonly link: RelayLink;
  /** per job, the newest relay sequence applied: a repeat after a resume is dropped */
  private readonly seqs = new Map<string, number>();
  /** jobs started here that the relay can cancel (it streams them itself) */
  private readonly cancellableHere = new Set<string>();
  /** jobs whose whole history is being read: their live events wait here */
  private readonly reading = new Map<string, JobEvent[]>();
  /**
   * Open jobs rebuilt from their whole history, kept whole by the relay since: a board snapshot
   * (which leaves out samples, files and output) must not replace them.
   */
  private readonly whole = new Set<string>();

  constructor(
    config: RelayConfig,
    private readonly board: RelayBoardPort,
  ) {
    this.link = new RelayLink(config, {
      onSnapshot: (jobs) => board.adopt(jobs.filter((job) => !this.reading.has(job.key) && !this.whole.has(job.key))),
      onEvents: (events) => this.fromRelay(events),
      onHealth: (health) => board.onHealth(health),
      // what the open job missed while the stream was down came as board events: read it whole
      board: () => board.jobs(),
      onReconnected: () => {
        const focused = board.focused();
        if (focused !== undefined) void this.readWhole(focused);
      },
    });
  }

  /** the sources the relay follows, to show and to launch on */
  sources(): Promise<{ accepted: Source[]; skipped: string[] }> {
    return this.link.sources();
  }

  start(): void {
    this.link.start();
  }

  watchSource(): void {
    // the relay reads every source's listings
  }

  open(source: Source, jobId: string): void {
    void this.readWhole(jobKey(source.id, jobId));
  }

  follows(): boolean {
    return false;
  }

  focus(): void {}

  close(): void {
    this.whole.clear();
    void this.link.setInterest({ open: [] });
  }

  setVisible(keys: ReadonlySet<string>): void {
    void this.link.setInterest({ visible: [...keys] });
  }

  retry(): void {
    // the relay follows the job again once it has what halted it (a token it was sent)
  }

  cancellable(key: string): boolean {
    return this.cancellableHere.has(key) && !isTerminal(this.board.known(key)?.status ?? 'completed');
  }

  /** Refused when the relay that held the stream is gone, or when no relay answers. */
  async cancel(key: string): Promise<void> {
    try {
      await this.link.cancel(key);
    } catch (error) {
      throw new Error(`Cancel failed: ${(error as Error).message}. The job goes on.`, { cause: error });
    }
  }

  async launch(source: Source, values: unknown): Promise<{ jobId: string }> {
    const { jobId, cancellable } = await this.link.launch(source.id, values);
    if (cancellable) this.cancellableHere.add(jobKey(source.id, jobId));
    return { jobId };
  }

  followUp(source: Source, parentJobId: string, instruction: string): Promise<string> {
    return this.link.followUp(jobKey(source.id, parentJobId), instruction);
  }

  /** The relay holds platform tokens for every viewer: it gets the new one, this tab keeps none. */
  renewToken(sourceId: string, token: string): Promise<void> {
    return this.link.renewToken(sourceId, token);
  }

  forget(key: string): void {
    this.whole.delete(key);
  }

  wake(): void {
    this.link.wake();
  }

  stop(): void {
    this.link.stop();
  }

  feeds(): JobFeed[] {
    return [];
  }

  streamsByOrigin(): Map<string, number> {
    return new Map();
  }

  connections(): Promise<RelayConnections[]> {
    return this.link.connections();
  }

  ledgerOf(): undefined {
    return undefined;
  }

  insightsFacts(): Promise<JobFacts[]> {
    return this.link.insightsFacts();
  }

  private fromRelay(events: (JobEvent & { seq: number })[]): void {
    const fresh: JobEvent[] = [];
    for (const event of events) {
      if (event.seq <= (this.seqs.get(event.key) ?? 0)) continue;
      this.seqs.set(event.key, event.seq);
      const waiting = this.reading.get(event.key);
      if (waiting) waiting.push(event);
      else fresh.push(event);
    }
    if (fresh.length) this.board.ingest(fresh);
  }

  /** An open job: subscribed whole, then its history read and the job rebuilt from it. */
  private async readWhole(key: string): Promise<void> {
    if (this.reading.has(key)) return;
    this.reading.set(key, []);
    try {
      await this.link.setInterest({ open: [key] }, { now: true });
      const history = await this.link.history(key);
      const newest = history.at(-1)?.seq ?? 0;
      if (history.length) {
        this.board.rebuild(key, history);
        if (this.board.focused() === key) this.whole.add(key);
        this.seqs.set(key, Math.max(this.seqs.get(key) ?? 0, newest));
      }
      const waiting = this.reading.get(key) ?? [];
      this.reading.delete(key);
      this.board.ingest(waiting.filter((event) => (event.seq ?? 0) > newest));
    } catch {
      // the relay is away: the job stays as the board had it, and is read again on reconnect
      const waiting = this.reading.get(key) ?? [];
      this.reading.delete(key);
      if (waiting.length) this.board.ingest(waiting);
    }
  }
}
