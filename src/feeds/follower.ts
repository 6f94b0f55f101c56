import { listingFactsEvent, type JobEvent } from '../model/events';
import { isTerminal, jobKey, lacksListingFacts, type Job } from '../model/job';
import { dialectFor } from '../protocols';
import type { Dialect, JobRef, JobSighting, Launched } from '../protocols/dialect';
import { LaunchValidationError, launchRequest } from '../protocols/launch';
import type { Source } from '../protocols/source';
import { listingKey, listingsOf, settleDeparted, SourceDiscovery, type Listing, type ListingHealth } from './discovery';
import { FeedManager } from './feedManager';
import { DEFAULT_FEED_SETTINGS, type FeedSettings } from './feedSettings';
import type { JobFeed } from './jobFeed';
import type { WireLedger } from './wireLedger';

/** How long a platform may take to open the stream a job's start request needs open first. */
export const STREAM_BEFORE_START_MS = 5000;

export interface FollowOptions {
  renew?: boolean;
  pinnedStream?: Launched['pinnedStream'];
  /** the platform's event ids already had: the stream resumes after them */
  seen?: readonly string[];
  /** an id never seen here: the platform is asked what it is before any stream opens */
  identify?: boolean;
}

export interface FollowerOptions {
  /** every normalized event goes here, in order */
  publish: (events: JobEvent[]) => void;
  /** the job as reduced so far from everything published (here or by a peer) */
  known: (key: string) => Job | undefined;
  /**
   * Whether this follower may take on a job it found in a listing. A relay passes its leases
   * (one relay of many follows each job); a browser follows everything it finds. @default yes
   */
  claim?: (key: string) => boolean | Promise<boolean>;
  /**
   * The platform's event ids a job already has where they are kept (a browser's history, the
   * relay's log), when reading them takes a while: a resumed job follows after them.
   */
  seenBefore?: (key: string) => Promise<readonly string[]> | undefined;
  /** a job whose start failed before it started: the browser drops it, the relay logs the failure */
  onStartFailed: (source: Source, jobId: string, error: Error) => void;
  onListingState?: (health: ListingHealth) => void;
  feed?: FeedSettings;
  /** one interval for every listing instead of each listing's own (tests) */
  discoveryIntervalMs?: number;
  /** where launch answers and listings are recorded for the protocol inspector */
  ledger?: WireLedger;
}

/**
 * The workflow of following jobs, written once for the browser and the relay: a source's
 * listings and what their sightings mean, launches and follow-ups, token renewal, halts and
 * cancels, over one FeedManager. Where the two differ they pass hooks (claim, seenBefore,
 * onStartFailed).
 */
export class Follower {
  readonly feeds: FeedManager;
  /** per job: how it is followed, secrets included (an iteration's sse_token); memory only */
  private readonly refs = new Map<string, JobRef>();
  /** by listingKey */
  private readonly discoveries = new Map<string, SourceDiscovery>();

  constructor(private readonly options: FollowerOptions) {
    this.feeds = new FeedManager((events) => options.publish(events), options.feed ?? DEFAULT_FEED_SETTINGS);
  }

  private get fetch(): typeof fetch | undefined {
    return this.options.feed?.fetch;
  }

  feed(key: string): JobFeed | undefined {
    return this.feeds.feed(key);
  }

  /** How a job is followed: as it was started here, else as far as its reduced state tells. */
  refFor(source: Source, jobId: string): JobRef {
    const key = jobKey(source.id, jobId);
    return this.refs.get(key) ?? { jobId, variant: this.options.known(key)?.variant };
  }

  /** The request a job was started with here (none for a job seen only through a listing). */
  requestOf(key: string): unknown {
    return this.refs.get(key)?.request;
  }

  /** Whether nothing but listings keeps this job current (no stream here, none elsewhere). */
  private keptCurrent(key: string, known: Job): boolean {
    const feed = this.feeds.feed(key);
    return feed ? feed.active && feed.mode !== 'queued' : known.link === 'live';
  }

  follow(source: Source, ref: JobRef, options: FollowOptions = {}): JobFeed {
    return this.feeds.watch(source, dialectFor(source.kind), ref, options);
  }

  /** Follows a job after what is already kept of it (waiting for it to be read when need be). */
  async resume(source: Source, ref: JobRef, options: FollowOptions = {}): Promise<JobFeed> {
    const seen = options.seen ?? (await this.options.seenBefore?.(jobKey(source.id, ref.jobId)));
    return this.follow(source, ref, { ...options, seen });
  }

  private async claim(key: string): Promise<boolean> {
    return this.options.claim ? this.options.claim(key) : true;
  }

  // ── listings ────────────────────────────────────────────────────────────────────────────
  /** The listings a source is read through. */
  listingsOf(source: Source): Listing[] {
    return listingsOf(source, dialectFor(source.kind), this.options.discoveryIntervalMs);
  }

  watching(key: string): boolean {
    return this.discoveries.has(key);
  }

  /** Reads every listing of a source (once: a source already read is left as it is). */
  watchSource(source: Source): void {
    if ([...this.discoveries.keys()].some((key) => key.startsWith(`${source.id}/`))) return;
    for (const listing of this.listingsOf(source)) this.watchListing(source, listing);
  }

  watchListing(source: Source, listing: Listing): void {
    const dialect = dialectFor(source.kind);
    const key = listingKey(source.id, listing.id);
    const { id: listingId, label, intervalMs, lists } = listing;
    const discovery = new SourceDiscovery({
      source,
      dialect,
      listing,
      onSightings: (sightings) => void this.onSightings(source, dialect, sightings),
      onDeparted: (jobIds) => void this.onDeparted(source, dialect, jobIds),
      onState: (state) => this.options.onListingState?.({ sourceId: source.id, listingId, label, intervalMs, lists, state }),
      fetch: this.fetch,
      ledger: this.options.ledger,
    });
    this.discoveries.set(key, discovery);
    discovery.start();
  }

  stopListing(key: string): void {
    this.discoveries.get(key)?.stop();
    this.discoveries.delete(key);
  }

  /** Stops reading a source's listings. @returns the keys of the listings stopped */
  stopSource(sourceId: string): string[] {
    const stopped = [...this.discoveries.keys()].filter((key) => key.startsWith(`${sourceId}/`));
    for (const key of stopped) this.stopListing(key);
    return stopped;
  }

  /** the listings read now, by listingKey */
  listingKeys(): string[] {
    return [...this.discoveries.keys()];
  }

  private async onSightings(source: Source, dialect: Dialect, sightings: JobSighting[]): Promise<void> {
    const { publish, known: knownOf } = this.options;
    for (const sighting of sightings) {
      const key = jobKey(source.id, sighting.jobId);
      const known = knownOf(key);
      const feed = this.feeds.feed(key);
      const ref = { jobId: sighting.jobId, variant: sighting.variant };
      if (!known && !feed) {
        publish(sighting.events);
        if (!sighting.finished && followable(dialect, source, ref) && (await this.claim(key))) this.follow(source, ref);
        continue;
      }
      if (!known) continue;
      if (known.notFound) {
        // looked up too early (a client-chosen id), or on a path that could not tell: it exists
        publish(sighting.events);
        if (!sighting.finished && !feed?.active && followable(dialect, source, ref) && (await this.claim(key))) {
          void this.resume(source, { ...this.refFor(source, sighting.jobId), variant: sighting.variant }, { renew: true });
        }
        continue;
      }
      if (isTerminal(known.status)) {
        if (lacksListingFacts(known)) publish(sighting.events.flatMap((event) => listingFactsEvent(event, known) ?? []));
        continue;
      }
      if (feed && !feed.pinned && sighting.variant !== feed.ref.variant) {
        // opened by URL before the listing said what kind of job it is: follow it as that kind
        this.feeds.forget(key);
        this.follow(source, { ...this.refFor(source, sighting.jobId), variant: sighting.variant });
      }
      if (!this.keptCurrent(key, known)) {
        // nothing else keeps this job current: the listing is its only news
        publish(sighting.events.filter((event) => event.at > (known.updatedAt ?? 0)));
        if (sighting.finished || sighting.events.some(endsJob)) this.dropQueued(key);
      } else if (lacksListingFacts(known)) {
        // streams do not carry the prompt or creation time; a listing does
        publish(sighting.events.flatMap((event) => listingFactsEvent(event, known) ?? []));
      }
    }
  }

  /** Jobs gone from a listing of running ones: those nothing else keeps current get their row read. */
  private async onDeparted(source: Source, dialect: Dialect, jobIds: string[]): Promise<void> {
    for (const jobId of jobIds) {
      const key = jobKey(source.id, jobId);
      const known = this.options.known(key);
      if (!known || isTerminal(known.status) || this.keptCurrent(key, known)) continue;
      const events = await settleDeparted(source, dialect, jobId, this.fetch);
      // the job may have moved on while its row was read
      const current = this.options.known(key);
      if (current && !isTerminal(current.status)) this.options.publish(events.filter((event) => event.at >= (current.updatedAt ?? 0)));
      if (events.some(endsJob)) this.dropQueued(key);
    }
  }

  /**
   * A job that ended while its feed waited for a stream slot: the feed goes, or it would hold
   * its place in the queue ahead of running jobs and open a stream for a job that is over.
   * Opening the job follows it again, for its whole history.
   */
  private dropQueued(key: string): void {
    if (this.feeds.feed(key)?.mode === 'queued') this.feeds.forget(key);
  }

  // ── starting jobs ───────────────────────────────────────────────────────────────────────
  /**
   * Starts a job from launch-form values (checked by the platform's launch schema); resolves
   * with its id once the platform has accepted it, and whether it can be cancelled.
   */
  async launch(source: Source, values: unknown): Promise<{ jobId: string; cancellable: boolean }> {
    const dialect = dialectFor(source.kind);
    if (!dialect?.launch) throw new Error(`${source.name} cannot start jobs from genwatch`);
    const request = launchRequest(dialect, values);
    const launched = await dialect.launch(source, request, this.fetch);
    const { jobId } = launched.ref;
    const key = jobKey(source.id, jobId);
    await this.claim(key);
    this.refs.set(key, { ...launched.ref, request: values });
    this.adopt(source, launched.events);
    const feed = this.follow(source, launched.ref, { pinnedStream: launched.pinnedStream });
    try {
      // the stream is the start request: it has started once it opens
      if (launched.pinnedStream) await feed.whenOpen;
      else if (launched.start) {
        await startWhenListening(feed, launched.start, {
          fetch: this.fetch,
          onAnswer: (events) => this.adopt(source, events),
          onLateFailure: (error) => this.options.publish([startFailedEvent(source, jobId, error)]),
        });
      }
    } catch (error) {
      this.feeds.forget(key);
      this.refs.delete(key);
      this.options.onStartFailed(source, jobId, error as Error);
      throw error;
    }
    return { jobId, cancellable: this.cancellable(key) };
  }

  /** A job made from a finished one with an instruction (a CodeBegen iteration); resolves with its id. */
  async followUp(source: Source, parentJobId: string, instruction: string): Promise<string> {
    const dialect = dialectFor(source.kind);
    if (!dialect?.followUp) throw new Error(`${dialect?.label ?? source.kind} jobs have no follow-up`);
    if (!instruction.trim()) throw new LaunchValidationError({ instruction: 'Say what to change.' });
    const launched = await dialect.followUp(source, parentJobId, instruction.trim(), this.fetch);
    const key = jobKey(source.id, launched.ref.jobId);
    await this.claim(key);
    this.refs.set(key, launched.ref);
    this.adopt(source, launched.events);
    this.follow(source, launched.ref);
    return launched.ref.jobId;
  }

  /** What a launch answer said: published, and its raw text recorded for the inspector. */
  private adopt(source: Source, events: JobEvent[]): void {
    const raw = events.find((event) => event.raw !== undefined)?.raw;
    if (raw !== undefined) this.options.ledger?.record(source, 'launch', raw, events);
    this.options.publish(events);
  }

  // ── halts, tokens, cancels ──────────────────────────────────────────────────────────────
  /**
   * A new token for a source (the one it had was refused): the listings read for it start again
   * with it, and every job it halted is followed again after what is kept of it.
   */
  renewToken(source: Source): void {
    for (const listing of this.listingsOf(source)) {
      const key = listingKey(source.id, listing.id);
      if (!this.discoveries.has(key)) continue;
      this.stopListing(key);
      this.watchListing(source, listing);
    }
    for (const feed of this.feeds.all()) {
      if (feed.source.id === source.id && feed.halted) void this.resume(source, this.refFor(source, feed.jobId), { renew: true });
    }
  }

  /** Whether a job can be cancelled here: it is followed on a stream that is the job itself. */
  cancellable(key: string): boolean {
    const feed = this.feeds.feed(key);
    return !!feed?.pinned && feed.active;
  }

  /** Cancels where the platform allows it. @returns whether a cancel was sent */
  cancel(key: string): boolean {
    if (!this.cancellable(key)) return false;
    this.feeds.feed(key)!.cancel();
    return true;
  }

  /** Stops following a job and forgets how it was followed. */
  forget(key: string): void {
    this.feeds.forget(key);
    this.refs.delete(key);
  }

  stop(): void {
    for (const discovery of this.discoveries.values()) discovery.stop();
    this.discoveries.clear();
    this.feeds.stopAll();
  }
}

const endsJob = (event: JobEvent) => event.kind === 'update' && event.update.status !== undefined && isTerminal(event.update.status);

/** Whether a job can be followed at all (a stream or a status to poll). */
export function followable(dialect: Dialect, source: Source, ref: JobRef): boolean {
  return dialect.streamRequest(source, ref).transport !== 'none' || (!!dialect.parseStatus && dialect.statusRequest?.(source, ref) !== undefined);
}

/**
 * For platforms that push progress only to a stream already open: open it, then send the
 * start request. Started is when the first progress arrives; a start that fails fails
 * before that (the promise rejects), and a failure after it reaches `onLateFailure`.
 */
export async function startWhenListening(
  feed: JobFeed,
  start: NonNullable<Launched['start']>,
  {
    fetch: fetchImpl,
    onAnswer,
    onLateFailure,
  }: { fetch?: typeof fetch; onAnswer: (events: Launched['events']) => void; onLateFailure: (message: string) => void },
): Promise<void> {
  await Promise.race([feed.whenOpen, new Promise((resolve) => setTimeout(resolve, STREAM_BEFORE_START_MS))]);
  const answer = start(fetchImpl);
  await Promise.race([answer, feed.firstUpdate]);
  answer.then(onAnswer, (error: { message?: string }) => onLateFailure(`The start request failed: ${error.message ?? String(error)}`));
}

/** A job whose start failed after it was accepted: failed, with why. */
export function startFailedEvent(source: Source, jobId: string, error: string): JobEvent {
  const now = Date.now();
  return {
    key: jobKey(source.id, jobId),
    sourceId: source.id,
    jobId,
    platform: source.kind,
    at: now,
    receivedAt: now,
    kind: 'update',
    label: 'result',
    update: { status: 'failed', error },
  };
}
