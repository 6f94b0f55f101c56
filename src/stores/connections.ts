import { acceptHMRUpdate, defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import { useIntervalFn } from '@vueuse/core';
import type { FeedHealth } from '../feeds/jobFeed';
import { linkHealth, type LinkState, type PlatformKind, type Transport } from '../model/job';
import { DEFAULT_MAX_STREAMS, originOf } from '../protocols/source';
import { useJobsStore } from './jobs';
import { useSourcesStore } from './sources';

export interface ConnectionRow {
  key: string;
  sourceId: string;
  jobId: string;
  title: string;
  platform: PlatformKind;
  origin: string;
  transport: Transport;
  state: LinkState;
  /** the job's link by the rule every screen shares (linkHealth) */
  health: 'ok' | 'stale' | 'down';
  detail?: string;
  /** ms from the feed's start to its first event */
  timeToFirstEvent?: number;
  uptimeMs: number;
  reconnects: number;
  fallbacks: number;
  stalls: number;
  bytes: number;
  bytesPerSecond: number;
  events: number;
  eventsPerSecond: number;
  heartbeats: number;
  maxHeartbeatGapMs: number;
  expectedHeartbeatMs?: number;
  protocolErrors: number;
  unrecognized: number;
  duplicates: number;
  gaps: number;
  lagMs?: number;
  history: FeedHealth['history'];
}

export interface HealthSample {
  at: number;
  eventsPerSecond: number;
  bytesPerSecond: number;
  /** mean lag over the last second, ms */
  lagMs?: number;
  reconnects: number;
  streams: number;
  polled: number;
}

const SERIES_LENGTH = 120;

/**
 * Health of every connection, sampled once a second from the feeds' counters (they count on
 * the hot path; this store only reads them), with two minutes of history for the charts.
 */
export const useConnectionsStore = defineStore('connections', () => {
  const jobs = useJobsStore();
  const sources = useSourcesStore();
  const rows = shallowRef<readonly ConnectionRow[]>([]);
  const series = shallowRef<readonly HealthSample[]>([]);
  let previous = new Map<string, { events: number; bytes: number; lagSum: number; lagCount: number; reconnects: number }>();
  let lastAt = Date.now();
  /** reconnects of feeds that have finished, so the running total never goes down */
  let finishedReconnects = 0;

  function sample(): void {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - lastAt) / 1000);
    lastAt = now;
    const next = new Map<string, { events: number; bytes: number; lagSum: number; lagCount: number; reconnects: number }>();
    const built: ConnectionRow[] = [];
    let events = 0;
    let bytes = 0;
    let lagSum = 0;
    let lagCount = 0;
    let reconnects = 0;
    for (const feed of jobs.allFeeds()) {
      const health = feed.health;
      const job = jobs.get(feed.key);
      const before = previous.get(feed.key);
      const counts = { events: health.events, bytes: feed.bytes, lagSum: health.lagSumMs, lagCount: health.lagCount, reconnects: health.reconnects };
      next.set(feed.key, counts);
      const deltaEvents = counts.events - (before?.events ?? counts.events);
      const deltaBytes = counts.bytes - (before?.bytes ?? counts.bytes);
      events += deltaEvents;
      bytes += deltaBytes;
      lagSum += counts.lagSum - (before?.lagSum ?? counts.lagSum);
      lagCount += counts.lagCount - (before?.lagCount ?? counts.lagCount);
      reconnects += counts.reconnects;
      built.push({
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
        bytes: counts.bytes,
        bytesPerSecond: deltaBytes / seconds,
        events: health.events,
        eventsPerSecond: deltaEvents / seconds,
        heartbeats: health.heartbeats,
        maxHeartbeatGapMs: health.maxHeartbeatGapMs,
        expectedHeartbeatMs: health.expectedHeartbeatMs,
        protocolErrors: health.protocolErrors,
        unrecognized: health.unrecognized,
        duplicates: health.duplicates,
        gaps: health.gaps,
        lagMs: health.lagCount ? health.lagSumMs / health.lagCount : undefined,
        history: health.history,
      });
    }
    for (const [key, counts] of previous) if (!next.has(key)) finishedReconnects += counts.reconnects;
    reconnects += finishedReconnects;
    previous = next;
    rows.value = built;
    const streams = built.filter((row) => row.transport === 'sse' || row.transport === 'websocket').length;
    const polled = built.filter((row) => row.transport === 'polling').length;
    const point: HealthSample = {
      at: now,
      eventsPerSecond: events / seconds,
      bytesPerSecond: bytes / seconds,
      lagMs: lagCount ? lagSum / lagCount : undefined,
      reconnects,
      streams,
      polled,
    };
    series.value = [...series.value.slice(-(SERIES_LENGTH - 1)), point];
  }

  /** streams in use per origin against its budget */
  const budget = computed(() => {
    const byOrigin = new Map<string, { origin: string; streams: number; max: number; sources: string[] }>();
    for (const source of sources.sources) {
      if (source.replay) continue;
      const origin = originOf(source);
      const entry = byOrigin.get(origin) ?? { origin, streams: 0, max: source.maxStreams ?? DEFAULT_MAX_STREAMS, sources: [] };
      entry.sources.push(source.name);
      byOrigin.set(origin, entry);
    }
    void rows.value; // re-read once a second, with the rows
    for (const [origin, streams] of jobs.streamsByOrigin()) {
      const entry = byOrigin.get(origin);
      if (entry) entry.streams = streams;
    }
    return [...byOrigin.values()];
  });

  /** Running jobs whose connection is down, or that went quiet: what the header and banner report. */
  const trouble = computed(() => {
    void series.value; // a second passing can make a quiet job stale
    const now = Date.now();
    const counts = { ok: 0, down: 0, stale: 0 };
    for (const job of jobs.jobs) counts[linkHealth(job, now)]++;
    return { down: counts.down, stale: counts.stale };
  });

  useIntervalFn(sample, 1000);

  return { rows, series, budget, trouble, sample };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionsStore, import.meta.hot));
