import type { JobEvent } from '../model/events';
import type { JobLookup } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import type { ReconnectPolicy } from '../transports/reconnect';

/** How every feed connects, polls and falls back: the same for all jobs of a dashboard. */
export interface FeedSettings {
  /**
   * How a stream tries again; after `maxReconnects` failed reconnects the feed falls back to
   * polling (the CodeBegen guide: 3). @default { baseMs: 1000, maxMs: 30000, maxReconnects: 3 }
   */
  reconnect: Pick<ReconnectPolicy, 'baseMs' | 'maxMs' | 'maxReconnects'>;
  /** @default 2000 */
  pollIntervalMs: number;
  /** how long a feed that fell back to polling waits before trying its stream again @default 30000 */
  streamRetryMs?: number;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
  /** sees every wire message this feed reads and what it became (the protocol inspector) */
  observe?: WireObserver;
  /**
   * How long a job the platform could not be asked about may show nothing but signs of life
   * before it is shown as not found (still listened to). @default 5000
   */
  confirmWithinMs?: number;
}

export const DEFAULT_FEED_SETTINGS: FeedSettings = {
  reconnect: { baseMs: 1000, maxMs: 30_000, maxReconnects: 3 },
  pollIntervalMs: 2000,
};

/** What a feed that identified its job found out. */
export type Identified = JobLookup['state'] | 'refused' | 'stopped';

/** Where a wire message came from: a job's stream, its status endpoint, a listing, a launch answer, a lookup. */
export type WireChannel = 'stream' | 'status' | 'listing' | 'launch' | 'lookup';
export type WireObserver = (source: Source, channel: WireChannel, raw: string, events: readonly JobEvent[]) => void;
