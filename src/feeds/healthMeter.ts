import type { JobEvent } from '../model/events';
import type { LinkState, Transport } from '../model/job';

/** What the connections page shows of a feed; counters only ever grow. */
export interface FeedHealth {
  startedAt: number;
  /** when the current stream opened */
  connectedAt?: number;
  /** time spent with a stream open, closed connections only */
  uptimeMs: number;
  firstEventAt?: number;
  reconnects: number;
  fallbacks: number;
  stalls: number;
  events: number;
  heartbeats: number;
  lastHeartbeatAt?: number;
  /** the longest silence between two signs of life on a stream */
  maxHeartbeatGapMs: number;
  expectedHeartbeatMs?: number;
  protocolErrors: number;
  /** well-formed messages of types genwatch does not know */
  unrecognized: number;
  duplicates: number;
  gaps: number;
  /** arrival minus the platform's timestamp, last and running sum */
  lastLagMs?: number;
  lagSumMs: number;
  lagCount: number;
  /** transport and state over time, newest last (bounded) */
  history: { at: number; transport: Transport; state: LinkState }[];
}

/** transport states kept per feed for the connections page's timeline */
const HISTORY_LENGTH = 100;

/**
 * Counts what happens to one feed's connections, for the connections page: a plain object
 * written on the hot path and read once a second, never reactive.
 */
export class HealthMeter {
  readonly health: FeedHealth;
  private lastSignAt: number | undefined;

  constructor(expectedHeartbeatMs?: number, now = Date.now()) {
    this.health = {
      startedAt: now,
      uptimeMs: 0,
      reconnects: 0,
      fallbacks: 0,
      stalls: 0,
      events: 0,
      heartbeats: 0,
      maxHeartbeatGapMs: 0,
      expectedHeartbeatMs,
      protocolErrors: 0,
      unrecognized: 0,
      duplicates: 0,
      gaps: 0,
      lagSumMs: 0,
      lagCount: 0,
      history: [],
    };
  }

  /** the sign-of-life interval the stream now open is expected to keep */
  expectHeartbeat(ms: number | undefined): void {
    this.health.expectedHeartbeatMs = ms;
  }

  connected(now = Date.now()): void {
    this.health.connectedAt = now;
    this.lastSignAt = now;
  }

  disconnected(now = Date.now()): void {
    if (this.health.connectedAt !== undefined) this.health.uptimeMs += now - this.health.connectedAt;
    this.health.connectedAt = undefined;
  }

  stalled(): void {
    this.health.stalls++;
    this.disconnected();
  }

  reconnecting(): void {
    this.disconnected();
    this.health.reconnects++;
  }

  fellBack(): void {
    this.health.fallbacks++;
  }

  /** Anything arrived: the gap since the last sign of life counts while a stream is open. */
  signOfLife(at: number, streaming: boolean): void {
    if (this.lastSignAt !== undefined && streaming) this.health.maxHeartbeatGapMs = Math.max(this.health.maxHeartbeatGapMs, at - this.lastSignAt);
    this.lastSignAt = at;
  }

  heartbeat(at: number): void {
    this.health.heartbeats++;
    this.health.lastHeartbeatAt = at;
  }

  /** What a wire message became: updates, heartbeats, invalid and unknown ones, and the lag of the live ones. */
  read(events: readonly JobEvent[], now: number): void {
    for (const event of events) {
      if (event.kind === 'protocol-error') this.health.protocolErrors++;
      else if (event.kind === 'unrecognized') this.health.unrecognized++;
      else if (event.kind === 'heartbeat') this.heartbeat(now);
      else if (event.kind === 'update') {
        this.health.events++;
        this.health.firstEventAt ??= now;
        // an event from before this connection opened is history replayed, not latency
        if (event.at !== event.receivedAt && (this.health.connectedAt === undefined || event.at >= this.health.connectedAt - 1000)) {
          this.health.lastLagMs = event.receivedAt - event.at;
          this.health.lagSumMs += this.health.lastLagMs;
          this.health.lagCount++;
        }
      }
    }
  }

  integrity(counts: { duplicates?: number; gaps?: number }): void {
    this.health.duplicates += counts.duplicates ?? 0;
    this.health.gaps += counts.gaps ?? 0;
  }

  linked(transport: Transport, state: LinkState, at = Date.now()): void {
    this.health.history.push({ at, transport, state });
    if (this.health.history.length > HISTORY_LENGTH) this.health.history.shift();
  }
}
