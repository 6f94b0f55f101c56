import type { Dialect, JobSighting, PlatformListing } from '../protocols/dialect';
import type { JobEvent, WireMismatch } from '../model/events';
import type { Source } from '../protocols/source';
import { Poller } from '../transports/poll';
import type { WireLedger } from './wireLedger';

export type DiscoveryState =
  | { state: 'starting' }
  | { state: 'ok'; at: number; jobs: number }
  | { state: 'error'; at: number; detail: string; fatal: boolean; status?: number }
  /** this deployment does not serve the listing (an older version, the guide's variant): not read again */
  | { state: 'absent'; at: number; detail: string };

/** One listing a source is read through, and how it is doing: a health row of its own. */
export interface ListingHealth {
  sourceId: string;
  listingId: string;
  label: string;
  intervalMs: number;
  lists: Listing['lists'];
  state: DiscoveryState;
  /** the relay that reads it, behind a relay */
  relayId?: string;
}

/** One way a source's jobs are found: a listing its platform's code serves, or the source's own `discoveryUrl`. */
export interface Listing {
  /** 'discovery' for the source's discoveryUrl, else the platform listing's id */
  id: string;
  /** what it reads, for its health row */
  label: string;
  intervalMs: number;
  lists: PlatformListing['lists'];
  /** where it is, in the order to try */
  urls: string[];
  parse(body: string, receivedAt: number): JobSighting[] | { error: string; mismatches?: WireMismatch[] };
}

/** The discovery listing of a source (its `discoveryUrl`) is read this often @default */
export const DISCOVERY_URL_INTERVAL_MS = 3000;

/** A listing's key among all of a dashboard's: its source and its name. */
export const listingKey = (sourceId: string, listingId: string) => `${sourceId}/${listingId}`;

/**
 * The listings a source is read through: each listing its platform's code serves, unless the
 * source turns it off (`"listings": {"running": false}`) or sets its interval (`{"queue": 5000}`),
 * and its `discoveryUrl`, when it has one. `intervalMs` overrides every interval (tests).
 */
export function listingsOf(source: Source, dialect: Dialect, intervalMs?: number): Listing[] {
  const listings: Listing[] = [];
  for (const listing of dialect.listings ?? []) {
    const option = source.listings?.[listing.id];
    if (option === false) continue;
    listings.push({
      id: listing.id,
      label: listing.label,
      intervalMs: intervalMs ?? (typeof option === 'number' ? option : listing.intervalMs),
      lists: listing.lists,
      urls: listing.urls(source).map((candidate) => candidate.url),
      parse: (body, receivedAt) => listing.parse(source, body, receivedAt),
    });
  }
  if (source.discoveryUrl && dialect.parseDiscovery) {
    listings.push({
      id: 'discovery',
      label: source.discoveryUrl,
      intervalMs: intervalMs ?? DISCOVERY_URL_INTERVAL_MS,
      lists: 'all',
      urls: [source.discoveryUrl],
      parse: (body, receivedAt) => dialect.parseDiscovery!(source, body, receivedAt),
    });
  }
  return listings;
}

export interface DiscoveryOptions {
  source: Source;
  dialect: Dialect;
  listing: Listing;
  onSightings: (sightings: JobSighting[]) => void;
  onState: (state: DiscoveryState) => void;
  /**
   * Jobs a listing of running jobs showed last time and no longer does: they moved on (ended,
   * mostly), and a job nothing else keeps current would otherwise stay "running" for ever.
   */
  onDeparted?: (jobIds: string[]) => void;
  fetch?: typeof fetch;
  /** where what the listing said is recorded for the protocol inspector */
  ledger?: WireLedger;
}

/**
 * Reads one listing of a source on its interval and reports what it sees. A rejected token
 * stops it with the reason, it does not loop; a listing the deployment does not serve (a 404)
 * is marked absent and not read again.
 */
export class SourceDiscovery {
  private poller: Poller | undefined;
  /** the ids the last answer listed, for a listing of running jobs */
  private listed = new Set<string>();

  constructor(private readonly options: DiscoveryOptions) {}

  get listing(): Listing {
    return this.options.listing;
  }

  start(): void {
    const { source, dialect, listing, onSightings, onState, ledger } = this.options;
    if (this.poller || listing.urls.length === 0) return;
    const [url, ...fallbackUrls] = listing.urls;
    onState({ state: 'starting' });
    this.poller = new Poller({
      url,
      fallbackUrls,
      headers: () => dialect.authHeaders(source),
      intervalMs: listing.intervalMs,
      fetch: this.options.fetch,
      onSignal: (signal) => {
        if (signal.type === 'response') {
          const result = listing.parse(signal.body, signal.at);
          if ('error' in result) {
            ledger?.recordFailure(source, 'listing', listing.id, signal.body, result.error, result.mismatches, signal.at);
            onState({ state: 'error', at: signal.at, detail: result.error, fatal: false });
            return;
          }
          ledger?.record(source, 'listing', signal.body, [], signal.at, listing.id);
          onState({ state: 'ok', at: signal.at, jobs: result.length });
          onSightings(result);
          if (listing.lists === 'running') this.noteDepartures(result);
        } else if (signal.type === 'failed') {
          onState({ state: 'error', at: signal.at, detail: signal.error.message, fatal: false });
        } else if (signal.reason !== 'stopped') {
          // a listing has no thing to be missing but itself: any 404 means this deployment has none
          if (signal.error?.status === 404) onState({ state: 'absent', at: signal.at, detail: `not served here (${signal.error.message})` });
          else onState({ state: 'error', at: signal.at, detail: signal.error?.message ?? 'Discovery stopped', fatal: true, status: signal.error?.status });
        }
      },
    }).start();
  }

  stop(): void {
    this.poller?.stop();
    this.poller = undefined;
    this.listed.clear();
  }

  private noteDepartures(sightings: JobSighting[]): void {
    const now = new Set(sightings.map((sighting) => sighting.jobId));
    const departed = [...this.listed].filter((jobId) => !now.has(jobId));
    this.listed = now;
    if (departed.length > 0) this.options.onDeparted?.(departed);
  }
}

/**
 * What a job's platform says of it now, for a job gone from a listing of running jobs: the
 * events of its lookup (its row), or none where the platform cannot be asked or did not answer.
 */
export async function settleDeparted(source: Source, dialect: Dialect, jobId: string, fetchImpl?: typeof fetch): Promise<JobEvent[]> {
  if (!dialect.lookup) return [];
  try {
    const answer = await dialect.lookup(source, jobId, fetchImpl);
    return answer.state === 'found' ? answer.events : [];
  } catch {
    // the next listing round, or the job's own stream once it has a slot, will tell
    return [];
  }
}
