import { listingKey, type ListingHealth } from '../src/feeds/discovery';
import { followable, Follower, startFailedEvent } from '../src/feeds/follower';
import type { JobEvent } from '../src/model/events';
import type { FeedSettings, Identified } from '../src/feeds/feedSettings';
import type { JobFeed } from '../src/feeds/jobFeed';
import { isTerminal, jobKey, type Job } from '../src/model/job';
import { dialectFor } from '../src/protocols';
import type { Source } from '../src/protocols/source';
import { jobLease, listingLease, type Leases } from './leases';

export interface CollectorOptions {
  /** platform sources, tokens included: they never leave the relay */
  sources: readonly Source[];
  /** every normalized event goes here (the log) */
  publish: (events: JobEvent[]) => void;
  leases: Leases;
  /** the relay's view of a job, reduced from the log (every relay's events) */
  known: (key: string) => Job | undefined;
  /** every job the log knows, for take-overs */
  knownJobs: () => Iterable<Job>;
  /** the platform's event ids of a job already in the log: a take-over resumes after them */
  seenWireIds: (key: string) => Promise<string[]>;
  relayId: string;
  feed?: FeedSettings;
  /** one interval for every listing instead of each listing's own (tests) */
  discoveryIntervalMs?: number;
  /** how often leases are renewed and orphaned jobs looked for @default 2000 */
  maintainEveryMs?: number;
  /** a running job not heard of for this long may have lost its relay: its lease is tried @default 6000 */
  orphanAfterMs?: number;
  /** streams per platform origin when a source sets none: no browser limit applies here @default 16 */
  maxStreams?: number;
}

/**
 * Follows jobs upstream with the dashboard's own follower, for every job and listing whose
 * lease this relay holds, and publishes what they say. What is the relay's alone lives here:
 * leases, take-overs of jobs whose relay went away, and watch requests.
 */
export class Collector {
  /** as configured (what viewers are told of them, without tokens) */
  readonly configured: readonly Source[];
  /** as followed: a relay is not held to a browser's six connections per origin */
  readonly sources: Map<string, Source>;
  /** the listings this relay reads, by listingKey, and how each is doing */
  private readonly listingHealth = new Map<string, ListingHealth>();
  private readonly follower: Follower;
  /** jobs this relay took on (followed, or found it cannot follow): not looked at again */
  private readonly handled = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private maintaining = false;

  constructor(private readonly options: CollectorOptions) {
    this.configured = options.sources;
    this.sources = new Map(options.sources.map((source) => [source.id, { ...source, maxStreams: source.maxStreams ?? options.maxStreams ?? 16 }]));
    this.follower = new Follower({
      publish: (events) => events.length > 0 && options.publish(events),
      known: options.known,
      claim: (key) => this.claim(key),
      seenBefore: (key) => (options.known(key) ? options.seenWireIds(key) : undefined),
      // accepted, then failed before it started: the log says so (what it published stays)
      onStartFailed: (source, jobId, error) => options.publish([startFailedEvent(source, jobId, `The start request failed: ${error.message}`)]),
      onListingState: (health) => this.listingHealth.set(listingKey(health.sourceId, health.listingId), health),
      feed: options.feed,
      discoveryIntervalMs: options.discoveryIntervalMs,
    });
  }

  /** a job this relay takes on: one relay of many holds its lease */
  private async claim(key: string): Promise<boolean> {
    const claimed = await this.options.leases.acquire(jobLease(key));
    if (claimed) this.handled.add(key);
    return claimed;
  }

  start(): void {
    void this.maintain();
    this.timer = setInterval(() => void this.maintain(), this.options.maintainEveryMs ?? 2000);
  }

  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.follower.stop();
    if (release) await this.options.leases.close();
  }

  /** feeds this relay runs upstream now, for /v1/connections and the metrics */
  upstream(): JobFeed[] {
    return this.follower.feeds.all();
  }

  /** the listings this relay reads (it holds their leases), each with its state */
  listings(): (ListingHealth & { relayId: string })[] {
    return this.follower.listingKeys().flatMap((key) => {
      const health = this.listingHealth.get(key);
      return health ? [{ ...health, relayId: this.options.relayId }] : [];
    });
  }

  /** streams held per platform origin, for /v1/connections */
  streamsByOrigin(): Map<string, number> {
    return this.follower.feeds.streamsByOrigin();
  }

  /**
   * A new platform token from an operator (the one configured was refused): the source's
   * listing and every job it halted start again with it, jobs after what the log has.
   * It lasts until the relay restarts; the sources file is the operator's to update.
   */
  async renewToken(sourceId: string, token: string): Promise<boolean> {
    const current = this.sources.get(sourceId);
    if (!current) return false;
    const source = { ...current, token };
    this.sources.set(sourceId, source);
    this.follower.renewToken(source);
    return true;
  }

  /** Renew what is held; take listings and orphaned jobs nobody follows; let finished jobs go. */
  private async maintain(): Promise<void> {
    if (this.maintaining) return;
    this.maintaining = true;
    const { leases } = this.options;
    try {
      for (const lost of await leases.renewAll()) this.drop(lost);
      for (const source of this.sources.values()) {
        for (const listing of this.follower.listingsOf(source)) {
          if (!this.follower.watching(listingKey(source.id, listing.id)) && (await leases.acquire(listingLease(source.id, listing.id)))) {
            this.follower.watchListing(source, listing);
          }
        }
      }
      const quietSince = Date.now() - (this.options.orphanAfterMs ?? 6000);
      for (const job of this.options.knownJobs()) {
        const lease = jobLease(job.key);
        // finished, or an id its platform has no job by: nothing to follow any more
        if (isTerminal(job.status) || job.notFound?.final) {
          if (leases.holds(lease)) {
            this.follower.forget(job.key);
            await leases.release(lease);
          }
          continue;
        }
        if (this.handled.has(job.key) || this.follower.feed(job.key)) continue;
        // a job another relay keeps current is not asked for: only the quiet ones may be orphans
        if ((job.lastSeenAt ?? job.updatedAt ?? 0) > quietSince) continue;
        if (await leases.acquire(lease)) await this.takeOver(job);
      }
    } catch (error) {
      // NATS away for a moment: the next round tries again; what is held stays followed
      console.warn(`relay ${this.options.relayId}: lease upkeep failed: ${(error as Error).message}`);
    } finally {
      this.maintaining = false;
    }
  }

  private drop(lease: string): void {
    if (lease.startsWith('listing/')) {
      const key = lease.slice('listing/'.length);
      this.follower.stopListing(key);
      this.listingHealth.delete(key);
    } else if (lease.startsWith('job/')) {
      const key = lease.slice('job/'.length);
      this.follower.feeds.forget(key);
      this.handled.delete(key);
    }
  }

  /** A job whose relay stopped: resumed after what the log has, or marked as a gap where the platform cannot resume. */
  private async takeOver(job: Job): Promise<void> {
    const source = this.sources.get(job.sourceId);
    this.handled.add(job.key);
    if (!source) return;
    const dialect = dialectFor(source.kind);
    const ref = this.follower.refFor(source, job.jobId);
    const now = Date.now();
    const base = { key: job.key, sourceId: job.sourceId, jobId: job.jobId, platform: job.platform, at: now, receivedAt: now };
    if (!followable(dialect, source, ref)) {
      this.options.publish([
        {
          ...base,
          kind: 'notice',
          level: 'warn',
          text: `Relay ${this.options.relayId} took this job over, but ${dialect.label} cannot resume it: what happened since ${new Date(job.updatedAt ?? now).toISOString()} is a gap, filled only by what its listing shows.`,
        },
        { ...base, kind: 'integrity', gaps: 1 },
      ]);
      return;
    }
    this.options.publish([{ ...base, kind: 'notice', level: 'info', text: `Relay ${this.options.relayId} took this job over and resumes it upstream.` }]);
    await this.follower.resume(source, ref);
  }

  /**
   * A job a viewer opened or a backend registered: followed upstream by this relay when no relay
   * does, after the platform said what the id is. Resolves with how it stands: `following`
   * (here, or by the relay holding its lease), `finished`, `not-found`, or `refused` with why.
   */
  async watch(sourceId: string, jobId: string, { waitMs = 5000 }: { waitMs?: number } = {}): Promise<WatchOutcome> {
    const source = this.sources.get(sourceId);
    if (!source) return { state: 'refused', detail: `No source '${sourceId}' on this relay` };
    const key = jobKey(sourceId, jobId);
    const known = this.options.known(key);
    const dialect = dialectFor(source.kind);
    const feed = this.follower.feed(key);
    if (feed) return feed.halted ? outcomeOf(known, feed) : { state: 'following', relayId: this.options.relayId };
    if (known && isTerminal(known.status)) return { state: 'finished' };
    if (known?.notFound?.final) return { state: 'not-found', detail: known.notFound.answer };
    if (known) {
      const ref = this.follower.refFor(source, jobId);
      if (!followable(dialect, source, ref)) {
        const offered = dialect.streamRequest(source, ref);
        return { state: 'refused', detail: offered.transport === 'none' ? offered.reason : `${dialect.label} offers no way to follow it` };
      }
      const handled = this.handled.has(key);
      if (!(await this.claim(key))) return { state: 'following', detail: 'another relay follows it' };
      if (!handled) await this.follower.resume(source, ref);
      return { state: 'following', relayId: this.options.relayId };
    }
    if (!(await this.claim(key))) return { state: 'following', detail: 'another relay follows it' };
    if (!followable(dialect, source, { jobId }) && !dialect.lookup) {
      return { state: 'refused', detail: `${dialect.label} offers no way to follow a job it was not started with here` };
    }
    const following = this.follower.follow(source, { jobId }, { identify: true });
    const identified = await Promise.race([following.identified, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), waitMs))]);
    return watchOutcome(identified, this.options.relayId, following);
  }

  /** Starts a job from launch-form values; resolves with its id once the platform accepted it. */
  async launch(sourceId: string, values: unknown): Promise<string> {
    const source = this.sources.get(sourceId);
    if (!source) throw new RelayRequestError(404, `No source '${sourceId}' on this relay`);
    if (!dialectFor(source.kind).launch) throw new RelayRequestError(400, `${source.name} cannot start jobs from genwatch`);
    return (await this.follower.launch(source, values)).jobId;
  }

  /** A job made from a finished one (a CodeBegen iteration); resolves with its id. */
  async followUp(sourceId: string, parentJobId: string, instruction: string): Promise<string> {
    const source = this.sources.get(sourceId);
    if (!source) throw new RelayRequestError(404, `No source '${sourceId}' on this relay`);
    if (!dialectFor(source.kind).followUp) throw new RelayRequestError(400, `${dialectFor(source.kind).label} jobs have no follow-up`);
    return this.follower.followUp(source, parentJobId, instruction);
  }

  /** Whether this relay can cancel the job: it follows it on a stream that is the job itself. */
  cancellable(key: string): boolean {
    return this.follower.cancellable(key);
  }

  /** Cancels where the platform allows it (a stream that is the job) and this relay follows it. */
  cancel(key: string): boolean {
    return this.follower.cancel(key);
  }
}

/** How a job asked to be watched stands. */
export interface WatchOutcome {
  state: 'following' | 'finished' | 'not-found' | 'refused' | 'looking-up';
  /** the platform's answer, or why the relay cannot follow it */
  detail?: string;
  /** the relay that follows it, when it is this one */
  relayId?: string;
}

function watchOutcome(identified: Identified | 'pending', relayId: string, feed: JobFeed): WatchOutcome {
  switch (identified) {
    case 'pending':
      return { state: 'looking-up', relayId };
    case 'found':
    case 'unknown':
      return { state: 'following', relayId };
    case 'not-found':
      return feed.halted ? { state: 'not-found', detail: feed.haltedBecause } : { state: 'following', relayId, detail: 'not found yet, still listening' };
    default:
      return { state: 'refused', detail: feed.haltedBecause };
  }
}

/** A halted feed's job, as a watch answer. */
function outcomeOf(job: Job | undefined, feed: JobFeed): WatchOutcome {
  if (job?.notFound) return { state: 'not-found', detail: job.notFound.answer };
  return { state: 'refused', detail: feed.haltedBecause };
}

/** A viewer's request the relay refuses, with the HTTP status to answer. */
export class RelayRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RelayRequestError';
  }
}
