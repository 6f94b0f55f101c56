import type { ListingHealth } from '../feeds/discovery';
import type { SourceLedger } from '../feeds/wireLedger';
import type { JobEvent } from '../model/events';
import type { Job } from '../model/job';
import type { Source } from '../protocols/source';
import type { BoardPort } from './upstream';

// What the tabs of one browser and its feed worker say to each other over their BroadcastChannel.

/** What the tabs of one browser sharing its feeds may ask of the board of this tab. */
export interface SharedBoardPort extends BoardPort {
  /** the board as this tab has it, everything received applied: for a tab that joins */
  jobs(): Job[];
  /** the board as the tab holding the feeds has it, replacing what this tab had */
  adopt(jobs: Job[]): void;
  /** what the tab holding the feeds has of a job's log, merged into this tab's by arrival order */
  mergeLog(key: string, events: JobEvent[]): void;
  /** the job's events in memory here */
  eventsOf(key: string): JobEvent[];
  /** the job as this board has it, everything received applied (none for a job let go of) */
  current(key: string): Job | undefined;
  /** a batch the feed worker reduced, replacing what this board had of its jobs */
  adoptReduced(batch: ReducedBatch): void;
  /** the wire ids of what this browser's history holds of a job */
  storedWireIds(key: string): Promise<string[]>;
  /** writes what is waiting for the history: another tab is about to read it */
  flushHistory(): Promise<void>;
  /** watches every source again: this tab took the feeds over */
  watchAll(): void;
  /** this page's copy of a source another tab asked about (with the token it holds), else the asking tab's */
  sourceFor(source: Source): Source;
  listings(): ListingHealth[];
  setListing(health: ListingHealth): void;
  setToken(sourceId: string, token: string, options: { keep?: boolean }): Source | undefined;
  ledger(sourceId: string): SourceLedger;
  /** this tab holds the browser's feeds, or shows what the feeds of another tab (or of the feed worker) bring */
  onRole(role: 'leader' | 'follower', holder?: FeedHolder): void;
}

/** what holds a browser's feeds: one of its tabs, or the feed worker all of them share */
export type FeedHolder = 'tab' | 'worker';

/**
 * What the feed worker sends the tabs of a batch of events: every job it changed, reduced, so
 * that no page parses, checks or reduces anything, and the events of the jobs a tab has open,
 * for their logs.
 */
export interface ReducedBatch {
  jobs: Job[];
  log: JobEvent[];
  /** the jobs the batch brought news of, not only signs of life */
  updated: string[];
}

export interface Interest {
  focused: string[];
  visible: string[];
  /** whether the tab is in front of the operator */
  shown: boolean;
}

/** What the tab holding the feeds says of them, for the tabs that only show them. */
export interface HolderState {
  cancellable: string[];
  streams: [string, number][];
}

/** What a tab asks of the tab holding the feeds. */
export type Request =
  | { call: 'watch'; source: Source; unfinished: string[] }
  | { call: 'open'; source: Source; jobId: string; needsHistory: boolean; unseen: boolean }
  | { call: 'retry'; source: Source; jobId: string }
  | { call: 'cancel'; key: string }
  | { call: 'launch'; source: Source; values: unknown }
  | { call: 'followUp'; source: Source; parentJobId: string; instruction: string }
  | { call: 'renewToken'; sourceId: string; token: string; keep?: boolean }
  | { call: 'connections' }
  | { call: 'ledger'; sourceId: string }
  | { call: 'wake' };

/** Requests that may have been carried out by a tab that closed before it answered: not sent twice. */
export const ONCE_ONLY = new Set<Request['call']>(['launch', 'followUp', 'cancel']);

export type TabMessage =
  | { type: 'join'; tab: string }
  | { type: 'board'; to: string; jobs: Job[]; state: HolderState; listings: ListingHealth[]; holder: FeedHolder }
  /** events as the feeds normalized them, in order, every one with its arrival sequence (a tab holding the feeds) */
  | { type: 'events'; events: JobEvent[] }
  /**
   * the feed worker's batch, reduced; `wire` has the wire ids of unfinished jobs' events and
   * `ended` the jobs that finished, for a tab that may have to take the feeds over
   */
  | { type: 'jobs'; batch: ReducedBatch; wire: [string, string][]; ended: string[] }
  | { type: 'state'; state: HolderState }
  | { type: 'listing'; health: ListingHealth }
  | { type: 'remove'; key: string }
  | { type: 'interest'; tab: string; interest: Interest }
  | { type: 'request'; tab: string; id: number; request: Request }
  | { type: 'reply'; to: string; id: number; value?: unknown; error?: { message: string; fields?: Record<string, string> } }
  | { type: 'leave'; tab: string }
  /** a tab took the feeds over: every other tab tells it what it shows, and asks again */
  | { type: 'leader'; tab: string; holder: FeedHolder }
  /** the tab holding the feeds has been in the background a while: this tab, in front, takes them over */
  | { type: 'hand-over'; to: string };
