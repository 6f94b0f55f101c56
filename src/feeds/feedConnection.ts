import * as v from 'valibot';
import { linkHealth, type Job } from '../model/job';
import { PLATFORM_KINDS } from '../protocols';
import { originOf } from '../protocols/source';
import type { DiscoveryState, ListingHealth } from './discovery';
import type { JobFeed } from './jobFeed';

const count = v.pipe(v.number(), v.finite(), v.minValue(0));
const maybeCount = v.optional(count);
const LINK_STATES = ['idle', 'connecting', 'live', 'stale', 'reconnecting', 'polling', 'closed', 'error'] as const;
const TRANSPORTS = ['sse', 'websocket', 'polling', 'none'] as const;

/**
 * One feed's connection as the connections page shows it, counters only: the page works out
 * rates from two readings. Built the same way from the dashboard's own feeds and, behind a
 * relay, by the relays from theirs (`/v1/connections`), so it is also a wire format.
 */
export const FeedConnectionSchema = v.object({
  key: v.string(),
  sourceId: v.string(),
  jobId: v.string(),
  title: v.string(),
  platform: v.picklist(PLATFORM_KINDS),
  origin: v.string(),
  transport: v.picklist(TRANSPORTS),
  state: v.picklist(LINK_STATES),
  /** the job's link by the rule every screen shares (linkHealth) */
  health: v.picklist(['ok', 'stale', 'down']),
  detail: v.optional(v.string()),
  /** ms from the feed's start to its first event */
  timeToFirstEvent: maybeCount,
  uptimeMs: count,
  reconnects: count,
  fallbacks: count,
  stalls: count,
  bytes: count,
  events: count,
  heartbeats: count,
  maxHeartbeatGapMs: count,
  expectedHeartbeatMs: maybeCount,
  protocolErrors: count,
  unrecognized: count,
  duplicates: count,
  gaps: count,
  lagMs: v.optional(v.pipe(v.number(), v.finite())),
  lagSumMs: v.pipe(v.number(), v.finite()),
  lagCount: count,
  history: v.array(v.object({ at: count, transport: v.picklist(TRANSPORTS), state: v.picklist(LINK_STATES) })),
  /** the relay that follows the job upstream, behind a relay */
  relayId: v.optional(v.string()),
});
export type FeedConnection = v.InferOutput<typeof FeedConnectionSchema>;

/** how much of a feed's state history goes over the wire: the page draws the last 16 */
const WIRE_HISTORY = 16;

export function feedConnection(feed: JobFeed, job: Job | undefined, now: number, relayId?: string): FeedConnection {
  const health = feed.health;
  return {
    key: feed.key,
    sourceId: feed.source.id,
    jobId: feed.jobId,
    title: job?.title ?? feed.jobId,
    platform: feed.dialect.kind,
    origin: originOf(feed.source),
    transport: job?.transport ?? 'none',
    state: job?.link ?? 'idle',
    health: job ? linkHealth(job, now) : 'ok',
    detail: job?.linkDetail,
    timeToFirstEvent: health.firstEventAt !== undefined ? health.firstEventAt - health.startedAt : undefined,
    uptimeMs: health.uptimeMs + (health.connectedAt !== undefined ? now - health.connectedAt : 0),
    reconnects: health.reconnects,
    fallbacks: health.fallbacks,
    stalls: health.stalls,
    bytes: feed.bytes,
    events: health.events,
    heartbeats: health.heartbeats,
    maxHeartbeatGapMs: health.maxHeartbeatGapMs,
    expectedHeartbeatMs: health.expectedHeartbeatMs,
    protocolErrors: health.protocolErrors,
    unrecognized: health.unrecognized,
    duplicates: health.duplicates,
    gaps: health.gaps,
    lagMs: health.lagCount ? health.lagSumMs / health.lagCount : undefined,
    lagSumMs: health.lagSumMs,
    lagCount: health.lagCount,
    history: relayId === undefined ? health.history : health.history.slice(-WIRE_HISTORY),
    relayId,
  };
}

/** streams in use per platform origin against its budget */
export const OriginBudgetSchema = v.object({
  origin: v.string(),
  streams: count,
  max: count,
  sources: v.array(v.string()),
  relayId: v.optional(v.string()),
});
export type OriginBudget = v.InferOutput<typeof OriginBudgetSchema>;

/** One listing of a source as a relay reads it (the sources store's ListingHealth). */
export const ListingStateSchema = v.object({
  sourceId: v.string(),
  listingId: v.string(),
  label: v.string(),
  intervalMs: count,
  lists: v.picklist(['running', 'finished', 'all']),
  state: v.variant('state', [
    v.object({ state: v.literal('starting') }),
    v.object({ state: v.literal('ok'), at: count, jobs: count }),
    v.object({ state: v.literal('error'), at: count, detail: v.string(), fatal: v.boolean(), status: v.optional(v.number()) }),
    v.object({ state: v.literal('absent'), at: count, detail: v.string() }),
  ]),
  relayId: v.string(),
});
export type ListingState = ListingHealth & { relayId: string; state: DiscoveryState };

/** What one relay follows upstream: `/v1/connections` answers with every relay's. */
export const RelayConnectionsSchema = v.object({
  relayId: v.string(),
  at: count,
  feeds: v.array(FeedConnectionSchema),
  budget: v.array(OriginBudgetSchema),
  listings: v.array(ListingStateSchema),
});
export type RelayConnections = v.InferOutput<typeof RelayConnectionsSchema>;
