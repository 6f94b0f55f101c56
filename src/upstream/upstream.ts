import type { JobFeed } from '../feeds/jobFeed';
import type { RelayConnections } from '../feeds/feedConnection';
import type { SourceLedger } from '../feeds/wireLedger';
import type { JobFacts } from '../model/facts';
import type { JobEvent } from '../model/events';
import type { Job } from '../model/job';
import type { Source } from '../protocols/source';

/**
 * Where the board's jobs come from: the platforms themselves (this page follows them), or a
 * relay that follows them for every viewer. The store asks for what the operator does (open a
 * job, start one, cancel, a new token) and is told what happened through its `BoardPort`; it
 * never asks which upstream it has.
 */
export interface Upstream {
  /** whether what arrives is this browser's to keep in its history (a relay keeps its own log) */
  readonly keepsHistory: boolean;
  /** whether this page writes it (of a browser's tabs, the one that holds the feeds) */
  readonly writesHistory: boolean;
  /** Follows the jobs of a source: its listings, and the unfinished jobs of it this browser kept. */
  watchSource(source: Source, unfinished: readonly string[]): void;
  /**
   * The operator looks at this job: stream it first, and read its history when the board has
   * only a summary. `seen` resolves to the wire ids of what this browser has stored of it.
   */
  open(source: Source, jobId: string, wanted: { needsHistory: boolean; unseen: boolean; seen: Promise<string[]> }): void;
  /** whether this page follows the job already (never behind a relay, which does) */
  follows(key: string): boolean;
  /** the job on screen, first in line for a stream */
  focus(key: string | undefined): void;
  /** the operator left the job page */
  close(): void;
  /** board rows on screen: streamed before the rest */
  setVisible(keys: ReadonlySet<string>): void;
  /** After the operator fixed what halted a job (a token, a source): try again. */
  retry(source: Source, jobId: string): void;
  cancellable(key: string): boolean;
  /** rejects with what to tell the operator when the cancel could not be carried out */
  cancel(key: string): Promise<void>;
  launch(source: Source, values: unknown): Promise<{ jobId: string }>;
  followUp(source: Source, parentJobId: string, instruction: string): Promise<string>;
  renewToken(sourceId: string, token: string, options: { keep?: boolean }): Promise<void>;
  /** a job the board let go of (or that never started) */
  forget(key: string): void;
  /** back in front of the operator, or online again: try now rather than after the backoff */
  wake(): void;
  stop(): void;
  /** this page's own feeds, for the connections page (none behind a relay) */
  feeds(): JobFeed[];
  /** streams this page holds per origin, against which the budget is shown */
  streamsByOrigin(): Map<string, number>;
  /** what every relay follows upstream, for the connections page (none in direct mode) */
  connections(): Promise<RelayConnections[]>;
  /** what a source sent, where another page reads it (none: this page's own ledger) */
  ledgerOf(sourceId: string): Promise<SourceLedger> | undefined;
  /** every finished job a relay's log holds, for /insights (none in direct mode) */
  insightsFacts(): Promise<JobFacts[]>;
}

/** What an upstream may do to the board. */
export interface BoardPort {
  ingest(events: readonly JobEvent[]): void;
  /** the job as the board has it, counting what was let go of to keep memory bounded */
  known(key: string): Job | undefined;
  /** the job on screen */
  focused(): string | undefined;
  /** drops a job that never started (its start request failed) */
  remove(key: string): void;
}
