import { acceptHMRUpdate, defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import { useIntervalFn } from '@vueuse/core';
import { feedConnection, type FeedConnection, type OriginBudget, type RelayConnections } from '../feeds/feedConnection';
import { linkHealth } from '../model/job';
import { DEFAULT_MAX_STREAMS, originOf } from '../protocols/source';
import { useJobsStore } from './jobs';
import { useSourcesStore } from './sources';

/** A feed's connection with its rates over the last reading. */
export interface ConnectionRow extends FeedConnection {
  bytesPerSecond: number;
  eventsPerSecond: number;
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
 * Behind a relay the feeds are the relays': read from `/v1/connections` while a page watches;
 * in a tab that shares another tab's feeds, they are read from that tab the same way.
 */
export const useConnectionsStore = defineStore('connections', () => {
  const jobs = useJobsStore();
  const sources = useSourcesStore();
  const rows = shallowRef<readonly ConnectionRow[]>([]);
  const series = shallowRef<readonly HealthSample[]>([]);
  /** the relays' stream budgets, behind a relay */
  const relayBudget = shallowRef<readonly OriginBudget[]>();
  /** behind a relay: why its connections could not be read, if they could not */
  const relayError = shallowRef<string>();
  /** pages showing the connections of feeds that run elsewhere (a relay, another tab): read only while there is one */
  let remoteWatchers = 0;
  let reading = false;
  let previous = new Map<string, { events: number; bytes: number; lagSum: number; lagCount: number; reconnects: number }>();
  let lastAt = Date.now();
  /** reconnects of feeds that have finished, so the running total never goes down */
  let finishedReconnects = 0;

  /** a second passing can make a quiet job stale */
  const tick = shallowRef(0);

  function sample(): void {
    tick.value++;
    if (jobs.feedsHeldBy === 'here') {
      const now = Date.now();
      record(
        jobs.allFeeds().map((feed) => feedConnection(feed, jobs.get(feed.key), now)),
        now,
      );
    } else if (remoteWatchers > 0 && !reading) {
      reading = true;
      void jobs
        .relayConnections()
        .then((relays) => {
          relayError.value = undefined;
          adoptRelays(relays);
        })
        .catch((error: Error) => (relayError.value = error.message))
        .finally(() => (reading = false));
    }
  }

  function adoptRelays(relays: RelayConnections[]): void {
    const byKey = new Map<string, FeedConnection>();
    // during a take-over two relays may list a job: the one with a live link tells more
    for (const relay of relays) for (const feed of relay.feeds) if (!byKey.has(feed.key) || feed.state === 'live') byKey.set(feed.key, feed);
    // another tab's feeds: its listings come as they are read, and the budget is this browser's
    if (jobs.feedsHeldBy === 'relay') {
      relayBudget.value = relays.flatMap((relay) => relay.budget);
      sources.replaceListings(relays.flatMap((relay) => relay.listings));
    }
    record([...byKey.values()], Date.now());
  }

  /** Rates from the difference with the previous reading, then one point for the charts. */
  function record(readings: readonly FeedConnection[], now: number): void {
    const seconds = Math.max(0.001, (now - lastAt) / 1000);
    lastAt = now;
    const next = new Map<string, { events: number; bytes: number; lagSum: number; lagCount: number; reconnects: number }>();
    const built: ConnectionRow[] = [];
    let events = 0;
    let bytes = 0;
    let lagSum = 0;
    let lagCount = 0;
    let reconnects = 0;
    for (const reading of readings) {
      const before = previous.get(reading.key);
      const counts = { events: reading.events, bytes: reading.bytes, lagSum: reading.lagSumMs, lagCount: reading.lagCount, reconnects: reading.reconnects };
      next.set(reading.key, counts);
      const deltaEvents = counts.events - (before?.events ?? counts.events);
      const deltaBytes = counts.bytes - (before?.bytes ?? counts.bytes);
      events += deltaEvents;
      bytes += deltaBytes;
      lagSum += counts.lagSum - (before?.lagSum ?? counts.lagSum);
      lagCount += counts.lagCount - (before?.lagCount ?? counts.lagCount);
      reconnects += counts.reconnects;
      built.push({ ...reading, bytesPerSecond: deltaBytes / seconds, eventsPerSecond: deltaEvents / seconds });
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

  /** A page showing the connections of feeds that run elsewhere, from now until the returned stop is called. */
  function watchRemoteFeeds(): () => void {
    remoteWatchers++;
    sample();
    let stopped = false;
    return () => {
      if (!stopped) remoteWatchers--;
      stopped = true;
    };
  }

  /** streams in use per origin against its budget */
  const budget = computed((): readonly OriginBudget[] => {
    if (jobs.feedsHeldBy === 'relay') return relayBudget.value ?? [];
    const byOrigin = new Map<string, OriginBudget>();
    for (const source of sources.sources) {
      if (source.replay) continue;
      const origin = originOf(source);
      const entry: OriginBudget = byOrigin.get(origin) ?? { origin, streams: 0, max: source.maxStreams ?? DEFAULT_MAX_STREAMS, sources: [] };
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
    void tick.value;
    const now = Date.now();
    const counts = { ok: 0, down: 0, stale: 0 };
    for (const job of jobs.jobs) counts[linkHealth(job, now)]++;
    return { down: counts.down, stale: counts.stale };
  });

  useIntervalFn(sample, 1000);

  return { rows, series, budget, trouble, relayError, sample, watchRemoteFeeds };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionsStore, import.meta.hot));
