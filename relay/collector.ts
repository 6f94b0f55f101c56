import { listingKey, listingsOf, settleDeparted, SourceDiscovery, type ListingHealth } from '../src/feeds/discovery';
import { FeedManager } from '../src/feeds/feedManager';
import { DEFAULT_FEED_SETTINGS, type FeedSettings, type Identified, type JobFeed } from '../src/feeds/jobFeed';
import { followable, startFailedEvent, startWhenListening } from '../src/feeds/launching';
import { listingFactsEvent, type JobEvent } from '../src/model/events';
import { isTerminal, jobKey, lacksListingFacts, type Job } from '../src/model/job';
import { dialectFor } from '../src/protocols';
import type { Dialect, JobRef, JobSighting, Launched } from '../src/protocols/dialect';
import { launchRequest } from '../src/protocols/launch';
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
 * Launches and follows jobs upstream with the dashboard's own dialects and feeds, for every
 * job and listing whose lease this relay holds, and publishes what they say.
 */
export class Collector {
  /** as configured (what viewers are told of them, without tokens) */
  readonly configured: readonly Source[];
  /** as followed: a relay is not held to a browser's six connections per origin */
  readonly sources: Map<string, Source>;
  /** the listings this relay reads, by listingKey, and how each is doing */
  private readonly listingHealth = new Map<string, ListingHealth>();
  private readonly feeds: FeedManager;
  /** by listingKey */
  private readonly discoveries = new Map<string, SourceDiscovery>();
  private readonly refs = new Map<string, JobRef>();
  /** jobs this relay took on (followed, or found it cannot follow): not looked at again */
  private readonly handled = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private maintaining = false;

  constructor(private readonly options: CollectorOptions) {
    this.configured = options.sources;
    this.sources = new Map(options.sources.map((source) => [source.id, { ...source, maxStreams: source.maxStreams ?? options.maxStreams ?? 16 }]));
    this.feeds = new FeedManager((events) => this.options.publish(events), options.feed ?? DEFAULT_FEED_SETTINGS);
  }

  start(): void {
    void this.maintain();
    this.timer = setInterval(() => void this.maintain(), this.options.maintainEveryMs ?? 2000);
  }

  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    for (const discovery of this.discoveries.values()) discovery.stop();
    this.discoveries.clear();
    this.feeds.stopAll();
    if (release) await this.options.leases.close();
  }

  /** feeds this relay runs upstream now, for /v1/connections and the metrics */
  upstream(): JobFeed[] {
    return this.feeds.all();
  }

  /** the listings this relay reads (it holds their leases), each with its state */
  listings(): (ListingHealth & { relayId: string })[] {
    return [...this.discoveries.keys()].flatMap((key) => {
      const health = this.listingHealth.get(key);
      return health ? [{ ...health, relayId: this.options.relayId }] : [];
    });
  }

  /** streams held per platform origin, for /v1/connections */
  streamsByOrigin(): Map<string, number> {
    return this.feeds.streamsByOrigin();
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
    for (const listing of listingsOf(source, dialectFor(source.kind), this.options.discoveryIntervalMs)) {
      const key = listingKey(sourceId, listing.id);
      if (!this.discoveries.has(key)) continue;
      this.discoveries.get(key)!.stop();
      this.discoveries.delete(key);
      this.watchListing(source, listing);
    }
    const dialect = dialectFor(source.kind);
    for (const feed of this.feeds.all()) {
      if (feed.source.id !== sourceId || !feed.halted) continue;
      this.feeds.watch(source, dialect, this.refs.get(feed.key) ?? feed.ref, { renew: true, seen: await this.options.seenWireIds(feed.key) });
    }
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
        for (const listing of listingsOf(source, dialectFor(source.kind), this.options.discoveryIntervalMs)) {
          if (!this.discoveries.has(listingKey(source.id, listing.id)) && (await leases.acquire(listingLease(source.id, listing.id)))) {
            this.watchListing(source, listing);
          }
        }
      }
      const quietSince = Date.now() - (this.options.orphanAfterMs ?? 6000);
      for (const job of this.options.knownJobs()) {
        const lease = jobLease(job.key);
        // finished, or an id its platform has no job by: nothing to follow any more
        if (isTerminal(job.status) || job.notFound?.final) {
          if (leases.holds(lease)) {
            this.feeds.forget(job.key);
            await leases.release(lease);
          }
          continue;
        }
        if (this.handled.has(job.key) || this.feeds.feed(job.key)) continue;
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
      this.discoveries.get(key)?.stop();
      this.discoveries.delete(key);
      this.listingHealth.delete(key);
    } else if (lease.startsWith('job/')) {
      const key = lease.slice('job/'.length);
      this.feeds.forget(key);
      this.handled.delete(key);
    }
  }

  private watchListing(source: Source, listing: ReturnType<typeof listingsOf>[number]): void {
    const dialect = dialectFor(source.kind);
    const key = listingKey(source.id, listing.id);
    const { id: listingId, label, intervalMs, lists } = listing;
    const discovery = new SourceDiscovery({
      source,
      dialect,
      listing,
      onSightings: (sightings) => void this.onSightings(source, dialect, sightings),
      onDeparted: (jobIds) => void this.onDeparted(source, dialect, jobIds),
      onState: (state) => this.listingHealth.set(key, { sourceId: source.id, listingId, label, intervalMs, lists, state }),
      fetch: this.options.feed?.fetch,
    });
    this.discoveries.set(key, discovery);
    discovery.start();
  }

  /** Jobs gone from a listing of running ones: those nothing follows get their row read. */
  private async onDeparted(source: Source, dialect: Dialect, jobIds: string[]): Promise<void> {
    for (const jobId of jobIds) {
      const key = jobKey(source.id, jobId);
      const known = this.options.known(key);
      if (!known || isTerminal(known.status) || this.feeds.feed(key)?.active) continue;
      const events = await settleDeparted(source, dialect, jobId, this.options.feed?.fetch);
      this.options.publish(events.filter((event) => event.at >= (known.updatedAt ?? 0)));
    }
  }

  private async onSightings(source: Source, dialect: Dialect, sightings: JobSighting[]): Promise<void> {
    for (const sighting of sightings) {
      const key = jobKey(source.id, sighting.jobId);
      const known = this.options.known(key);
      if (!known) {
        this.options.publish(sighting.events);
        const ref = { jobId: sighting.jobId, variant: sighting.variant };
        if (!sighting.finished && followable(dialect, source, ref) && (await this.options.leases.acquire(jobLease(key)))) this.follow(source, ref);
        continue;
      }
      if (isTerminal(known.status)) continue;
      if (known.notFound) {
        // looked up too early (a client-chosen id), or on a path that could not tell: it exists
        this.options.publish(sighting.events);
        const ref = { jobId: sighting.jobId, variant: sighting.variant };
        if (!sighting.finished && !this.feeds.feed(key)?.active && followable(dialect, source, ref) && (await this.options.leases.acquire(jobLease(key)))) {
          this.follow(source, ref, { renew: true });
        }
        continue;
      }
      if (known.link !== 'live' && !this.feeds.feed(key)?.active) {
        // nothing keeps this job current but the listing
        this.options.publish(sighting.events.filter((event) => event.at > (known.updatedAt ?? 0)));
      } else if (lacksListingFacts(known)) {
        // streams do not carry the prompt or creation time; a listing does
        const facts = sighting.events.flatMap((event) => listingFactsEvent(event, known) ?? []);
        if (facts.length > 0) this.options.publish(facts);
      }
    }
  }

  private follow(
    source: Source,
    ref: JobRef,
    options: { pinnedStream?: Launched['pinnedStream']; seen?: readonly string[]; identify?: boolean; renew?: boolean } = {},
  ): JobFeed {
    const key = jobKey(source.id, ref.jobId);
    this.handled.add(key);
    return this.feeds.watch(source, dialectFor(source.kind), ref, options);
  }

  /** A job whose relay stopped: resumed after what the log has, or marked as a gap where the platform cannot resume. */
  private async takeOver(job: Job): Promise<void> {
    const source = this.sources.get(job.sourceId);
    this.handled.add(job.key);
    if (!source) return;
    const dialect = dialectFor(source.kind);
    const ref = this.refs.get(job.key) ?? { jobId: job.jobId, variant: job.variant };
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
    this.follow(source, ref, { seen: await this.options.seenWireIds(job.key) });
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
    const feed = this.feeds.feed(key);
    if (feed) return feed.halted ? outcomeOf(known, feed) : { state: 'following', relayId: this.options.relayId };
    if (known && isTerminal(known.status)) return { state: 'finished' };
    if (known?.notFound?.final) return { state: 'not-found', detail: known.notFound.answer };
    if (known) {
      const ref = this.refs.get(key) ?? { jobId, variant: known.variant };
      if (!followable(dialect, source, ref)) {
        const offered = dialect.streamRequest(source, ref);
        return { state: 'refused', detail: offered.transport === 'none' ? offered.reason : `${dialect.label} offers no way to follow it` };
      }
      if (!(await this.options.leases.acquire(jobLease(key)))) return { state: 'following', detail: 'another relay follows it' };
      if (!this.handled.has(key)) this.follow(source, ref, { seen: await this.options.seenWireIds(key) });
      return { state: 'following', relayId: this.options.relayId };
    }
    if (!(await this.options.leases.acquire(jobLease(key)))) return { state: 'following', detail: 'another relay follows it' };
    if (!followable(dialect, source, { jobId }) && !dialect.lookup) {
      return { state: 'refused', detail: `${dialect.label} offers no way to follow a job it was not started with here` };
    }
    const following = this.follow(source, { jobId }, { identify: true });
    const identified = await Promise.race([following.identified, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), waitMs))]);
    return watchOutcome(identified, this.options.relayId, following);
  }

  /** Starts a job from launch-form values; resolves with its id once the platform accepted it. */
  async launch(sourceId: string, values: unknown): Promise<string> {
    const source = this.sources.get(sourceId);
    if (!source) throw new RelayRequestError(404, `No source '${sourceId}' on this relay`);
    const dialect = dialectFor(source.kind);
    if (!dialect.launch) throw new RelayRequestError(400, `${source.name} cannot start jobs from genwatch`);
    const fetchImpl = this.options.feed?.fetch;
    const launched = await dialect.launch(source, launchRequest(dialect, values), fetchImpl);
    const key = jobKey(source.id, launched.ref.jobId);
    await this.options.leases.acquire(jobLease(key));
    this.refs.set(key, { ...launched.ref, request: values });
    this.options.publish(launched.events);
    const feed = this.follow(source, launched.ref, { pinnedStream: launched.pinnedStream });
    const failed = (error: string) => this.options.publish([startFailedEvent(source, launched.ref.jobId, error)]);
    try {
      if (launched.pinnedStream) await feed.whenOpen;
      else if (launched.start) {
        await startWhenListening(feed, launched.start, { fetch: fetchImpl, onAnswer: (events) => this.options.publish(events), onLateFailure: failed });
      }
    } catch (error) {
      this.feeds.forget(key);
      failed(`The start request failed: ${(error as Error).message}`);
      throw error;
    }
    return launched.ref.jobId;
  }

  /** A job made from a finished one (a CodeBegen iteration); resolves with its id. */
  async followUp(sourceId: string, parentJobId: string, instruction: string): Promise<string> {
    const source = this.sources.get(sourceId);
    if (!source) throw new RelayRequestError(404, `No source '${sourceId}' on this relay`);
    const dialect = dialectFor(source.kind);
    if (!dialect.followUp) throw new RelayRequestError(400, `${dialect.label} jobs have no follow-up`);
    if (!instruction.trim()) throw new RelayRequestError(400, 'Say what to change.');
    const launched = await dialect.followUp(source, parentJobId, instruction.trim(), this.options.feed?.fetch);
    const key = jobKey(source.id, launched.ref.jobId);
    await this.options.leases.acquire(jobLease(key));
    this.refs.set(key, launched.ref);
    this.options.publish(launched.events);
    this.follow(source, launched.ref);
    return launched.ref.jobId;
  }

  /** Whether this relay can cancel the job: it follows it on a stream that is the job itself. */
  cancellable(key: string): boolean {
    const feed = this.feeds.feed(key);
    return !!feed?.pinned && feed.active;
  }

  /** Cancels where the platform allows it (a stream that is the job) and this relay follows it. */
  cancel(key: string): boolean {
    const feed = this.feeds.feed(key);
    if (!feed?.pinned || !feed.active) return false;
    feed.cancel();
    return true;
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
