import { acceptHMRUpdate, defineStore } from 'pinia';
import { computed, markRaw, nextTick, shallowRef, watch } from 'vue';
import { useDocumentVisibility, useEventListener, useOnline } from '@vueuse/core';
import { WireLedger } from '../feeds/wireLedger';
import type { RelayConnections } from '../feeds/feedConnection';
import { loadRelayConfig, type RelayConfig, type RelayHealth } from '../feeds/relayLink';
import { DEFAULT_FEED_SETTINGS, type FeedSettings } from '../feeds/feedSettings';
import type { JobEvent } from '../model/events';
import { JOB_STATUSES, isTerminal, jobKey, type Job, type JobStatus } from '../model/job';
import { JobBoard, MAX_QUEUED } from '../model/jobBoard';
import { BACKGROUND_LOG_CAPACITY, EVENT_LOG_CAPACITY, FINISHED_LOG_CAPACITY } from '../model/jobLog';
import { dialectFor } from '../protocols';
import { LaunchValidationError, launchRequest } from '../protocols/launch';
import type { Source } from '../protocols/source';
import { exportedPlatform, parseJsonl, replay, type ReplaySpeed } from '../persistence/exchange';
import { DEFAULT_HISTORY, historyOptionsFromSettings, JobHistory } from '../persistence/history';
import { FactsLog } from '../persistence/facts';
import { factsOf, type JobFacts } from '../model/facts';
import { DirectUpstream, type DirectOptions } from '../upstream/direct';
import { RelayUpstream } from '../upstream/relay';
import { TabUpstream } from '../upstream/tabs';
import type { SharedBoardPort } from '../upstream/tabsWire';
import type { BoardPort, Upstream } from '../upstream/upstream';
import { tabGroupsAvailable } from '../transports/tabs';
import { feedWorkerAvailable, startFeedWorker } from '../upstream/feedWorkerClient';
import type { SourceLedger } from '../feeds/wireLedger';
import { useSourcesStore } from './sources';

/** main-thread time one flush may take before the rest waits for the next frame */
const FLUSH_BUDGET_MS = 8;

export { BACKGROUND_LOG_CAPACITY, EVENT_LOG_CAPACITY, FINISHED_LOG_CAPACITY, MAX_QUEUED };

/**
 * Overridable for tests and the benchmark (shorter retries, a given fetch; one interval for
 * every listing instead of each listing's own).
 */
export const jobsConfig: { feed: FeedSettings; discoveryIntervalMs?: number; shareFeedsAcrossTabs?: boolean; feedWorker?: boolean } = {
  feed: { ...DEFAULT_FEED_SETTINGS },
};

/** What an export being replayed holds, and the read-only source it plays as. */
export interface ReplayedExport {
  source: Source;
  events: number;
  jobs: number;
  /** lines that were not genwatch events */
  skipped: number;
}

/**
 * Every job the dashboard knows, and the workflows that span stores (starting up, adding a
 * source, a new token, a replay). Laid out as state, getters, then actions.
 */
export const useJobsStore = defineStore('jobs', () => {
  const sources = useSourcesStore();

  // ── state ──────────────────────────────────────────────────────────────────────────────
  // The board lives outside Vue's reactivity: every flush publishes `jobs` (a new array whose
  // items are new objects only for jobs that changed) and bumps `revision`, which the getters
  // below read so that whatever uses them is reactive.
  const records: JobBoard = new JobBoard({
    logCapacity: (key, job) => logCapacity(key, job),
    maxFinishedJobs: () => history?.options.maxFinishedJobs ?? DEFAULT_HISTORY.maxFinishedJobs,
    // a replayed export is the file the operator chose to look at, whole: it is not let go of
    keep: (job) => job.key === focusedKey || !!sources.byId(job.sourceId)?.replay,
    onLetGo: (key) => {
      upstream.forget(key);
      storedLoads.delete(key);
      restored.delete(key);
    },
    platformOf: (sourceId) => sources.byId(sourceId)?.kind ?? 'codebegen',
  });
  /** the launch-form values of jobs started here, to start the same again */
  const requests = new Map<string, unknown>();
  let flushScheduled = false;
  /** the job on screen: its log keeps EVENT_LOG_CAPACITY events in memory */
  let focusedKey: string | undefined;
  let firstLivePainted = false;

  /** newest first */
  const jobs = shallowRef<readonly Job[]>([]);
  /** bumps on every flush that changed something, and when a log is read back from history */
  const revision = shallowRef(0);

  /** what every source sent and what genwatch made of it, for the protocol inspector */
  const ledger = markRaw(new WireLedger());
  const history = JobHistory.available() ? markRaw(new JobHistory(historyOptionsFromSettings())) : undefined;
  /** finished jobs' facts for /insights, kept in both modes (the relay has no job history of this browser's) */
  const factsLog = FactsLog.available() ? markRaw(new FactsLog()) : undefined;
  /** jobs whose end has been written to the facts */
  const factsWritten = new Set<string>();
  /** per restored job: its stored events loaded into its log, resolving to their wire ids */
  const storedLoads = new Map<string, Promise<string[]>>();
  /** jobs that came from history rather than from a platform in this visit */
  const restored = new Set<string>();

  /** what the upstream may do to the board */
  const board: BoardPort = {
    ingest: (events) => ingestMany(events),
    // what is queued and not yet applied is not known yet: a listing may say it twice
    known: (key) => records.known(key),
    focused: () => focusedKey,
    remove: (key) => remove(key),
  };
  const directUpstream = (port: BoardPort = board, overrides: Partial<DirectOptions> = {}) =>
    markRaw(
      new DirectUpstream(port, {
        feed: { ...jobsConfig.feed, observe: (source, channel, raw, events) => ledger.record(source, channel, raw, events) },
        discoveryIntervalMs: jobsConfig.discoveryIntervalMs,
        ledger,
        onListingState: (health) => sources.setListing(health),
        kept: (key) => restored.has(key),
        seenBefore: (key) => (restored.has(key) ? loadStoredEvents(key).finally(() => restored.delete(key)) : undefined),
        storedWireIds: (key) => loadStoredEvents(key),
        setToken: (sourceId, token, options) => sources.setToken(sourceId, token, options),
        ...overrides,
      }),
    );
  /** what the browser's other tabs may ask of this one's board when they share one feed layer */
  const sharedBoard: SharedBoardPort = {
    ...board,
    jobs: publishedBoard,
    adopt: adoptSnapshot,
    mergeLog,
    eventsOf: (key) => {
      // a hidden tab applies what arrived only as often as its timers run
      flushAll();
      return records.eventsOf(key);
    },
    current: (key) => {
      flushAll();
      return records.get(key);
    },
    adoptReduced: ({ jobs: changed, log, updated }) => {
      records.adoptReduced(changed, log);
      publish();
      if (!firstLivePainted) markFirstLivePaint(updated);
      writeFacts(changed);
    },
    storedWireIds: (key) => loadStoredEvents(key),
    flushHistory: async () => {
      await history?.flush();
    },
    watchAll: () => {
      for (const source of sources.sources) attachSource(source);
    },
    sourceFor: (source) => sources.byId(source.id) ?? source,
    listings: () => [...sources.listings.values()],
    setListing: (health) => sources.setListing(health),
    setToken: (sourceId, token, options) => sources.setToken(sourceId, token, options),
    ledger: (sourceId) => ledger.snapshot(sourceId),
    onRole: (role, holder = 'tab') => {
      tabRole.value = role;
      feedsHeldBy.value = role === 'leader' ? 'here' : holder;
    },
  };
  /** the platforms, followed from this page, until a relay is configured: then the relay */
  let upstream: Upstream = directUpstream();
  /** the relay's health, when the dashboard uses one */
  const relayHealth = shallowRef<RelayHealth>();
  /** where the feeds behind the board run: this page, a relay, or another tab of this browser */
  const feedsHeldBy = shallowRef<'here' | 'relay' | 'tab' | 'worker'>('here');
  /** where this browser's tabs share one feed layer: whether this tab holds it */
  const tabRole = shallowRef<'leader' | 'follower'>();

  const visibility = useDocumentVisibility();
  const online = useOnline();

  // ── getters ────────────────────────────────────────────────────────────────────────────
  const counts = computed(() => {
    const byStatus = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const job of jobs.value) byStatus[job.status]++;
    return byStatus;
  });

  function get(key: string): Job | undefined {
    void revision.value;
    return records.get(key);
  }

  /** oldest first; a copy */
  function eventsOf(key: string): JobEvent[] {
    void revision.value;
    return records.eventsOf(key);
  }

  /** events received and not yet applied */
  function backlog(): number {
    return records.backlog;
  }

  /** The request a job was started with here, when it was (a job seen only via a listing has none). */
  function canRunAgain(key: string): boolean {
    void revision.value;
    return requests.get(key) !== undefined;
  }

  function canCancel(key: string): boolean {
    void revision.value;
    return upstream.cancellable(key);
  }

  /** streams held per origin now, against which the budget is shown */
  function streamsByOrigin() {
    return upstream.streamsByOrigin();
  }

  /** every feed, for the connections page */
  function allFeeds() {
    return upstream.feeds();
  }

  // ── actions: events in ─────────────────────────────────────────────────────────────────
  function ingest(event: JobEvent): void {
    ingestMany([event]);
  }

  function ingestMany(events: readonly JobEvent[]): void {
    records.enqueue(events);
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    // A frame when the page is painted; a timer when hidden (rAF does not run then).
    let frame: number | undefined;
    const run = () => {
      clearTimeout(timer);
      if (frame !== undefined) cancelAnimationFrame(frame);
      flush();
    };
    if (typeof requestAnimationFrame === 'function' && visibility.value === 'visible') frame = requestAnimationFrame(run);
    const timer = setTimeout(run, 100);
  }

  /**
   * Applies queued events for at most FLUSH_BUDGET_MS, then lets the frame paint and goes on in
   * the next one: a reconnect that replays 20,000 events never blocks the page, and the board
   * still shows the newest state within a few frames.
   */
  function flush(): void {
    flushScheduled = false;
    // hidden, nothing paints and flushes come 100 ms apart: catch up in bigger steps
    const applied = records.apply(visibility.value === 'hidden' ? FLUSH_BUDGET_MS * 6 : FLUSH_BUDGET_MS);
    if (!applied) return;
    if (records.backlog) scheduleFlush();
    const { batch, changed } = applied;
    publish();
    if (!firstLivePainted) markFirstLivePaint(batch.flatMap((event) => (event.kind === 'update' ? [event.key] : [])));
    writeFacts([...changed].map((record) => record.job));
    // replays are read-only copies of an export: the file is their history; a relay keeps its own
    if (history && upstream.writesHistory) {
      const kept = [...changed].filter((record) => !sources.byId(record.job.sourceId)?.replay);
      if (kept.length) {
        const keys = new Set(kept.map((record) => record.job.key));
        history.record(
          kept.map((record) => record.job),
          batch.filter((event) => keys.has(event.key)),
        );
      }
    }
  }

  /** Everything received, applied now: for a reader that must see all that arrived. */
  function flushAll(): void {
    while (records.backlog) flush();
  }

  /** A finished job's facts for /insights, once per job. */
  function writeFacts(changed: readonly Job[]): void {
    if (!factsLog) return;
    for (const job of changed) {
      if (!isTerminal(job.status) || factsWritten.has(job.key) || sources.byId(job.sourceId)?.replay) continue;
      const facts = factsOf(job);
      if (!facts) continue;
      factsWritten.add(job.key);
      factsLog.record(facts);
    }
  }

  /**
   * The page's time to first live news, as a user timing mark (read by the benchmark and by any
   * real-user monitoring): set after the frame that painted the first update of a live stream.
   * @param updated the jobs just updated
   */
  function markFirstLivePaint(updated: readonly string[]): void {
    if (!updated.some((key) => records.get(key)?.link === 'live')) return;
    firstLivePainted = true;
    if (typeof performance === 'undefined' || typeof requestAnimationFrame !== 'function') return;
    void nextTick(() => requestAnimationFrame(() => performance.mark('genwatch:first-live-event-painted')));
  }

  function logCapacity(key: string, job: Job | undefined = records.get(key)): number {
    if (key === focusedKey) return EVENT_LOG_CAPACITY;
    // the history has every event of it, read back when it opens
    if (history && upstream.keepsHistory && job && isTerminal(job.status) && !sources.byId(job.sourceId)?.replay) return FINISHED_LOG_CAPACITY;
    return BACKGROUND_LOG_CAPACITY;
  }

  function publish(): void {
    jobs.value = records.jobs();
    revision.value++;
  }

  // ── actions: history ───────────────────────────────────────────────────────────────────
  /**
   * Jobs kept from earlier visits, shown at once; the running ones resume where their stored
   * events end. Their connections start fresh: nothing is live until it says so.
   */
  async function restore(): Promise<void> {
    if (!history) return;
    let stored: Job[];
    try {
      stored = await history.loadJobs();
    } catch {
      return; // no history (a private window, a blocked database): start empty
    }
    for (const job of records.restore(stored)) {
      restored.add(job.key);
      // its end was written when it ended
      if (isTerminal(job.status)) factsWritten.add(job.key);
    }
    publish();
  }

  /** Stored events of a restored job into its log (once), and the wire ids to resume after. */
  function loadStoredEvents(key: string): Promise<string[]> {
    let loading = storedLoads.get(key);
    if (!loading) {
      loading = readStoredEvents(key);
      storedLoads.set(key, loading);
    }
    return loading;
  }

  async function readStoredEvents(key: string): Promise<string[]> {
    const job = records.get(key);
    if (!history || !job || job.eventCount === 0) return [];
    const stored = await history.loadEvents(key).catch(() => [] as JobEvent[]);
    records.withStoredLog(key, stored);
    revision.value++;
    return stored.flatMap((event) => (event.wireId ? [event.wireId] : []));
  }

  /** Every event of these jobs that genwatch has, oldest first: stored history, else memory. */
  async function eventsForExport(keys: readonly string[]): Promise<JobEvent[]> {
    const all: JobEvent[] = [];
    await history?.flush();
    for (const key of keys) {
      const stored = history ? await history.loadEvents(key).catch(() => []) : [];
      all.push(...(stored.length ? stored : eventsOf(key)));
    }
    return all;
  }

  /** Forgets every stored job; the ones on screen stay until the page reloads. */
  async function clearHistory(): Promise<boolean> {
    if (!history) return false;
    await Promise.all([history.clear(), factsLog?.clear()]);
    return true;
  }

  /** Behind a relay: every finished job its log holds, for /insights (none without a relay). */
  async function relayFacts(): Promise<JobFacts[]> {
    return upstream.insightsFacts();
  }

  /** Facts of the finished jobs in memory, for /insights (the stored ones are read by its worker). */
  function finishedFacts(): JobFacts[] {
    return jobs.value.flatMap((job) => (sources.byId(job.sourceId)?.replay ? [] : (factsOf(job) ?? [])));
  }

  // ── actions: following jobs ────────────────────────────────────────────────────────────
  /** Watch a source: discover its jobs through each of its listings and keep the running ones current. */
  function attachSource(source: Source): void {
    upstream.watchSource(source, records.unfinishedOf(source.id));
  }

  /**
   * The operator looks at this job: give it a stream first, and load its history when all we
   * have is a summary (a job from a listing, a shared URL).
   */
  function open(source: Source, jobId: string): void {
    const key = jobKey(source.id, jobId);
    // let go of to keep memory bounded, and wanted again: read from where it is kept
    records.wantAgain(key);
    const job = records.get(key);
    const needsHistory = !job || job.phases.length <= 1 || !isTerminal(job.status);
    // an id this dashboard has never seen: the platform is asked what it is before anything is opened
    const unseen = !job && !requests.has(key) && !upstream.follows(key);
    focus(key);
    // back on a job seen before: its log lost its older events to the background bound
    if (upstream.keepsHistory && storedLoads.has(key)) void storedLoads.get(key)!.then(() => readStoredEvents(key));
    upstream.open(source, jobId, { needsHistory, unseen, seen: upstream.keepsHistory ? loadStoredEvents(key) : Promise.resolve([]) });
  }

  /** The operator left the job page: its stream may go to another job. */
  function blur(): void {
    focus(undefined);
    upstream.close();
  }

  /** The job on screen: first in line for a stream, and a longer log in memory. */
  function focus(key: string | undefined): void {
    upstream.focus(key);
    const previous = focusedKey;
    focusedKey = key;
    records.fitLogOf(previous);
    records.fitLogOf(key);
  }

  /** Jobs on screen on the board get streams before the rest. */
  function setVisible(keys: ReadonlySet<string>): void {
    upstream.setVisible(keys);
  }

  /** After the operator fixed what halted a job (a token, a source), try again. */
  function retry(source: Source, jobId: string): void {
    upstream.retry(source, jobId);
  }

  /**
   * Cancel where the platform allows it: a job whose stream is its own request. Behind a relay
   * it can be refused (the relay that held the stream is gone) or not reach the relay at all:
   * rejects with what to tell the operator, the job going on.
   */
  function cancel(key: string): Promise<void> {
    return upstream.cancel(key);
  }

  /** Drops a job that never started (its start request failed). */
  function remove(key: string): void {
    upstream.forget(key);
    requests.delete(key);
    if (records.remove(key)) publish();
  }

  // ── actions: starting jobs ─────────────────────────────────────────────────────────────
  /**
   * Starts a job on a source from its launch form's values (checked by the platform's launch
   * schema); resolves with its id once the platform has accepted it.
   */
  async function launch(source: Source, values: unknown): Promise<string> {
    const dialect = dialectFor(source.kind);
    if (!dialect?.launch) throw new Error(`${source.name} cannot start jobs from genwatch`);
    // checked here for the form's sake, behind a relay too (which holds the platform's token)
    launchRequest(dialect, values);
    const { jobId } = await upstream.launch(source, values);
    requests.set(jobKey(source.id, jobId), values);
    return jobId;
  }

  /** A job made from a finished one with an instruction (a CodeBegen iteration); resolves with its id. */
  async function followUp(source: Source, parentJobId: string, instruction: string): Promise<string> {
    const dialect = dialectFor(source.kind);
    if (!dialect?.followUp) throw new Error(`${dialect?.label ?? source.kind} jobs have no follow-up`);
    if (!instruction.trim()) throw new LaunchValidationError({ instruction: 'Say what to change.' });
    return upstream.followUp(source, parentJobId, instruction.trim());
  }

  /** Start the same request again (a failed or cancelled job): a new job. */
  async function runAgain(source: Source, key: string): Promise<string> {
    const values = requests.get(key);
    if (values === undefined) throw new Error('This job was not started from this dashboard: its request is unknown');
    return launch(source, values);
  }

  // ── actions: workflows across stores ───────────────────────────────────────────────────
  /** The dashboard's start: stored jobs at once, then the sources, each watched. */
  async function start(): Promise<void> {
    const relayConfig = await loadRelayConfig().catch((error: Error) => error);
    if (relayConfig instanceof Error) return sources.loadFrom(() => Promise.reject(relayConfig));
    if (relayConfig) return connectRelay(relayConfig);
    if (tabGroupsAvailable() && jobsConfig.shareFeedsAcrossTabs !== false) await shareFeedsAcrossTabs();
    await restore();
    await sources.load();
    for (const source of sources.sources) attachSource(source);
  }

  /**
   * One feed layer for all of this browser's tabs: the feed worker (else the tab that holds it)
   * follows the platforms with the browser's one stream budget per origin; the tabs show what it brings.
   */
  async function shareFeedsAcrossTabs(): Promise<void> {
    upstream.stop();
    // in the worker, the feeds' parsing and checking leave every page's main thread
    if (feedWorkerAvailable() && jobsConfig.feedWorker !== false) await startFeedWorker();
    const tabs = markRaw(new TabUpstream(sharedBoard, (port, overrides) => directUpstream(port, overrides)));
    upstream = tabs;
    await tabs.start();
  }

  /** The board as it is now, everything received applied: for a tab that joins this one. */
  function publishedBoard(): Job[] {
    flushAll();
    return [...jobs.value];
  }

  /** What another tab has of a job's log in memory, merged into this one's: each event once, in arrival order. */
  function mergeLog(key: string, events: readonly JobEvent[]): void {
    // what arrived and waits for a frame is applied first, or it would be logged twice
    flushAll();
    if (records.mergeLog(key, events)) revision.value++;
  }

  /** What a source sent, for the protocol inspector: read where the feeds run. */
  async function ledgerOf(sourceId: string): Promise<SourceLedger> {
    return upstream.ledgerOf(sourceId) ?? ledger.snapshot(sourceId);
  }

  // ── actions: through a relay ───────────────────────────────────────────────────────────
  /** Every job through one stream from the relay, which follows the platforms for every viewer. */
  async function connectRelay(config: RelayConfig): Promise<void> {
    upstream.stop();
    const relay = markRaw(
      new RelayUpstream(config, {
        ...board,
        adopt: adoptSnapshot,
        rebuild,
        onHealth: (health) => (relayHealth.value = health),
        // what arrived and waits for a frame is on the board another tab is given
        jobs: publishedBoard,
      }),
    );
    upstream = relay;
    feedsHeldBy.value = 'relay';
    tabRole.value = undefined;
    await sources.loadFrom(() => relay.sources());
    relay.start();
  }

  /** What every relay follows upstream, for the connections page. */
  function relayConnections(): Promise<RelayConnections[]> {
    return upstream.connections();
  }

  /** The board as the relay has it: jobs without files or samples, which an open job reads whole. */
  function adoptSnapshot(snapshot: Job[]): void {
    records.adopt(snapshot);
    publish();
  }

  /** A job as its whole history builds it, replacing the summary the board had. */
  function rebuild(key: string, stored: JobEvent[]): void {
    records.rebuild(key, stored);
    publish();
  }

  /** A source the operator added: checked, kept, and watched. @returns what is wrong with it, if anything */
  function addSource(entry: unknown): string | undefined {
    const problem = sources.add(entry);
    if (problem) return problem;
    const id = (entry as { id?: unknown }).id;
    const added = typeof id === 'string' ? sources.byId(id) : undefined;
    if (added) attachSource(added);
    return undefined;
  }

  /** A new token for a source a platform rejected: its discovery and every job it halted start again with it. */
  async function renewToken(sourceId: string, token: string, options: { keep?: boolean } = {}): Promise<void> {
    return upstream.renewToken(sourceId, token, options);
  }

  /**
   * An export replayed as a read-only source of its own, through the same path as live events.
   * @returns what the file held, or undefined when it holds no genwatch events
   */
  function replayExport(fileName: string, text: string, speed: ReplaySpeed, onDone: (replayed: ReplayedExport) => void): ReplayedExport | undefined {
    const platform = exportedPlatform(text);
    if (!platform) return undefined;
    const source = sources.addReplay(fileName, platform);
    const { events, skipped } = parseJsonl(text, source.id);
    const replayed = { source, events: events.length, jobs: new Set(events.map((event) => event.jobId)).size, skipped: skipped.length };
    replay(
      events,
      speed,
      (batch) => ingestMany(batch),
      () => onDone(replayed),
    );
    return replayed;
  }

  // ── browser signals (removed with the store) ───────────────────────────────────────────
  // what arrived is written before the page goes away
  useEventListener('pagehide', () => {
    void history?.flush();
    void factsLog?.flush();
  });
  watch(
    visibility,
    (state) => {
      if (state === 'hidden') {
        void history?.flush();
        void factsLog?.flush();
      } else {
        // back in front of the operator: try now rather than after the backoff, and paint
        upstream.wake();
        flush();
      }
    },
    { flush: 'sync' },
  );
  watch(
    online,
    (isOnline) => {
      if (!isOnline) return;
      upstream.wake();
    },
    { flush: 'sync' },
  );

  /** for tests: stop every connection and forget everything */
  function $reset(): void {
    upstream.stop();
    upstream = directUpstream();
    relayHealth.value = undefined;
    feedsHeldBy.value = 'here';
    tabRole.value = undefined;
    records.clear();
    requests.clear();
    jobs.value = [];
  }

  return {
    jobs,
    revision,
    ledger,
    relayHealth,
    feedsHeldBy,
    tabRole,
    relayConnections,
    ledgerOf,
    finishedFacts,
    relayFacts,
    counts,
    get,
    eventsOf,
    backlog,
    canRunAgain,
    canCancel,
    streamsByOrigin,
    allFeeds,
    ingest,
    ingestMany,
    flush,
    restore,
    eventsForExport,
    clearHistory,
    attachSource,
    open,
    blur,
    setVisible,
    retry,
    cancel,
    remove,
    launch,
    followUp,
    runAgain,
    start,
    addSource,
    renewToken,
    replayExport,
    $reset,
  };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot));
