import { followable, Follower, type FollowOptions } from '../feeds/follower';
import type { FeedSettings } from '../feeds/feedSettings';
import type { JobFeed } from '../feeds/jobFeed';
import type { ListingHealth } from '../feeds/discovery';
import type { RelayConnections } from '../feeds/feedConnection';
import type { WireLedger } from '../feeds/wireLedger';
import type { JobFacts } from '../model/facts';
import { jobKey } from '../model/job';
import { dialectFor } from '../protocols';
import type { JobRef } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import type { BoardPort, Upstream } from './upstream';

export interface DirectOptions {
  feed: FeedSettings;
  discoveryIntervalMs?: number;
  ledger: WireLedger;
  onListingState(health: ListingHealth): void;
  /** whether the job was kept from an earlier visit and not followed since */
  kept(key: string): boolean;
  /** a kept job: its stored events loaded, resolving to the wire ids to resume after */
  seenBefore(key: string): Promise<string[]> | undefined;
  /** the stored events of a kept job, loaded once, as the wire ids to resume after */
  storedWireIds(key: string): Promise<string[]>;
  /** keeps a new token for a source; the source with it, if it exists */
  setToken(sourceId: string, token: string, options: { keep?: boolean }): Source | undefined;
}

/** This page follows the platforms itself, with the follower every genwatch runs. */
export class DirectUpstream implements Upstream {
  readonly keepsHistory = true;
  readonly writesHistory = true;
  private readonly follower: Follower;

  constructor(
    private readonly board: BoardPort,
    private readonly options: DirectOptions,
  ) {
    this.follower = new Follower({
      publish: (events) => board.ingest(events),
      known: (key) => board.known(key),
      seenBefore: (key) => options.seenBefore(key),
      onStartFailed: (source, jobId) => board.remove(jobKey(source.id, jobId)),
      onListingState: options.onListingState,
      feed: options.feed,
      discoveryIntervalMs: options.discoveryIntervalMs,
      ledger: options.ledger,
    });
  }

  watchSource(source: Source, unfinished: readonly string[]): void {
    const dialect = dialectFor(source.kind);
    if (!dialect || source.replay || this.follower.listingKeys().some((key) => key.startsWith(`${source.id}/`))) return;
    for (const jobId of unfinished) {
      if (!this.follower.feed(jobKey(source.id, jobId)) && followable(dialect, source, this.follower.refFor(source, jobId))) void this.resume(source, jobId);
    }
    this.follower.watchSource(source);
  }

  open(source: Source, jobId: string, { needsHistory, unseen, seen }: { needsHistory: boolean; unseen: boolean; seen: Promise<string[]> }): void {
    const key = jobKey(source.id, jobId);
    void seen.then((wireIds) => {
      if (needsHistory) this.feedFor(source, this.follower.refFor(source, jobId), { seen: wireIds, identify: unseen && !this.board.known(key) });
    });
  }

  follows(key: string): boolean {
    return this.follower.feed(key) !== undefined;
  }

  focus(key: string | undefined): void {
    this.focusAll(new Set(key === undefined ? [] : [key]));
  }

  /** the jobs open in every tab sharing this page's feeds */
  focusAll(keys: ReadonlySet<string>): void {
    this.follower.feeds.focus(keys);
  }

  close(): void {}

  setVisible(keys: ReadonlySet<string>): void {
    this.follower.feeds.setVisible(keys);
  }

  retry(source: Source, jobId: string): void {
    this.feedFor(source, this.follower.refFor(source, jobId), { renew: true });
  }

  cancellable(key: string): boolean {
    return this.follower.cancellable(key);
  }

  async cancel(key: string): Promise<void> {
    this.follower.cancel(key);
  }

  launch(source: Source, values: unknown): Promise<{ jobId: string }> {
    return this.follower.launch(source, values);
  }

  followUp(source: Source, parentJobId: string, instruction: string): Promise<string> {
    return this.follower.followUp(source, parentJobId, instruction);
  }

  async renewToken(sourceId: string, token: string, options: { keep?: boolean }): Promise<void> {
    const source = this.options.setToken(sourceId, token, options);
    if (source) this.follower.renewToken(source);
  }

  forget(key: string): void {
    this.follower.forget(key);
  }

  wake(): void {
    this.follower.feeds.wakeAll();
  }

  stop(): void {
    this.follower.stop();
  }

  feeds(): JobFeed[] {
    return this.follower.feeds.all();
  }

  streamsByOrigin(): Map<string, number> {
    return this.follower.feeds.streamsByOrigin();
  }

  async connections(): Promise<RelayConnections[]> {
    return [];
  }

  ledgerOf(): undefined {
    return undefined;
  }

  async insightsFacts(): Promise<JobFacts[]> {
    return [];
  }

  private feedFor(source: Source, ref: JobRef, options: FollowOptions = {}): void {
    if (source.replay) return;
    // a kept job resumes after its stored events: they are read before it is followed
    const key = jobKey(source.id, ref.jobId);
    if (!options.seen && this.options.kept(key) && !this.follower.feed(key)) void this.follower.resume(source, ref, options);
    else this.follower.follow(source, ref, options);
  }

  /** A kept job that was still running: followed again, after what is stored. */
  private async resume(source: Source, jobId: string): Promise<void> {
    const key = jobKey(source.id, jobId);
    const seen = await this.options.storedWireIds(key);
    if (this.follower.feed(key)?.active) return;
    this.feedFor(source, this.follower.refFor(source, jobId), { seen });
  }
}
