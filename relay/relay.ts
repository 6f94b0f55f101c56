import http from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket as NodeWebSocket } from 'ws';
import * as v from 'valibot';
import { DEFAULT_FEED_SETTINGS, type FeedSettings } from '../src/feeds/feedSettings';
import { newJob, splitJobKey, type Job } from '../src/model/job';
import { reduceJob } from '../src/model/reducer';
import { LaunchValidationError } from '../src/protocols/launch';
import { DEFAULT_MAX_STREAMS, originOf, type Source } from '../src/protocols/source';
import { feedConnection, type OriginBudget, type RelayConnections } from '../src/feeds/feedConnection';
import { factsOf } from '../src/model/facts';
import { helloFrame, snapshotFrame } from '../src/protocols/relayWire';
import { Collector, RelayRequestError } from './collector';
import { LocalLeases, type Leases } from './leases';
import { MemoryLog, type EventLog, type LoggedEvent } from './log';
import { observeStages, relayMetrics } from './metrics';
import { boardJob, FLUSH_MS, prepare, Viewer } from './viewers';

export interface RelayOptions {
  sources: readonly Source[];
  /** what viewers must send as `Authorization: Bearer …` */
  token: string;
  /** @default an in-memory log of 200,000 events */
  log?: EventLog;
  /** @default every lease is this relay's (one machine) */
  leases?: Leases;
  relayId?: string;
  port?: number;
  host?: string;
  /** dashboard origins allowed to call the relay from a browser */
  allowOrigins?: readonly string[];
  feed?: Partial<FeedSettings>;
  discoveryIntervalMs?: number;
  maintainEveryMs?: number;
  /** see CollectorOptions.orphanAfterMs */
  orphanAfterMs?: number;
  /** asks the relay that follows a job to cancel it (several relays); true when it did */
  forwardCancel?: (key: string) => Promise<boolean>;
  /** every relay's upstream connections, this one's included (several relays) @default this one's */
  gatherConnections?: (own: RelayConnections) => Promise<RelayConnections[]>;
  /** gives a new platform token to every relay (several relays); true when one knew the source @default this one */
  shareToken?: (sourceId: string, token: string) => Promise<boolean>;
}

export interface RunningRelay {
  url: string;
  relayId: string;
  collector: Collector;
  log: EventLog;
  /** the relay's view of every job in the log */
  jobs: ReadonlyMap<string, Job>;
  /** what this relay follows upstream, as `/v1/connections` lists it */
  connections(): RelayConnections;
  /** lets a dashboard origin call the relay from a browser */
  allowOrigin(origin: string): void;
  /** stops serving and following; leases are released unless `crash` (a relay that died) */
  close(options?: { crash?: boolean }): Promise<void>;
}

const StreamRequest = v.object({ open: v.optional(v.array(v.string())), visible: v.optional(v.array(v.string())) });
const SubscriptionRequest = v.object({ connection: v.string(), open: v.optional(v.array(v.string())), visible: v.optional(v.array(v.string())) });
const LaunchBody = v.object({ sourceId: v.string(), values: v.unknown() });
const FollowUpBody = v.object({ instruction: v.string() });
const TokenBody = v.object({ token: v.pipe(v.string(), v.trim(), v.minLength(1, 'The token is empty')) });
const WatchEntry = v.object({ source: v.pipe(v.string(), v.minLength(1)), id: v.pipe(v.string(), v.minLength(1), v.maxLength(500)) });
/** one job, a list of them, or `{jobs: [...]}`: what a backend registers */
const WatchBody = v.union([
  WatchEntry,
  v.pipe(v.array(WatchEntry), v.minLength(1), v.maxLength(500)),
  v.object({ jobs: v.pipe(v.array(WatchEntry), v.minLength(1), v.maxLength(500)) }),
]);

/**
 * The newest events, decoded, for resumes: a viewer back within seconds (a relay restart, a
 * network blip) is served from memory rather than by reading the log again.
 */
class RecentEvents {
  private events: LoggedEvent[] = [];

  constructor(private readonly capacity: number) {}

  push(events: readonly LoggedEvent[]): void {
    for (const event of events) this.events.push(event);
    if (this.events.length > this.capacity * 1.2) this.events.splice(0, this.events.length - this.capacity);
  }

  /** every event after `seq`, or undefined when `seq` is older than what is kept */
  after(seq: number): LoggedEvent[] | undefined {
    const first = this.events[0];
    if (!first || seq + 1 < first.seq) return undefined;
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.events[mid].seq <= seq) low = mid + 1;
      else high = mid;
    }
    return this.events.slice(low);
  }
}

/** A viewer's socket buffering more than this is too slow: closed, it resumes from its last id */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_MS = 15_000;
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The genwatch relay: follows jobs upstream with the dashboard's dialects (each job by exactly
 * one relay, by lease), keeps every normalized event in its log, and serves dashboards one
 * multiplexed, resumable SSE stream each.
 */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const relayId = options.relayId ?? `relay-${randomUUID().slice(0, 8)}`;
  const log = options.log ?? new MemoryLog();
  const leases = options.leases ?? new LocalLeases();
  const metrics = relayMetrics();
  const jobs = new Map<string, Job>();
  /** the newest sequence folded into `jobs` and routed to viewers */
  let processedSeq = 0;
  const viewers = new Map<string, Viewer>();
  // a minute of a 3,000 events/s flood: viewers of a relay that died resume from memory
  const recent = new RecentEvents(200_000);
  const allowOrigins = new Set(options.allowOrigins ?? []);

  const collector = new Collector({
    sources: options.sources,
    relayId,
    leases,
    publish: (events) => {
      if (events.length === 0) return;
      metrics.eventsIn.inc({ source: events[0].sourceId }, events.length);
      for (const event of events) if (event.kind === 'link' && event.reconnect) metrics.reconnects.inc();
      log.append(events).catch((error: Error) => {
        metrics.publishErrors.inc();
        console.warn(`relay ${relayId}: the log did not take ${events.length} events: ${error.message}`);
      });
    },
    known: (key) => jobs.get(key),
    knownJobs: () => jobs.values(),
    seenWireIds: async (key) => (await log.history(key)).flatMap((event) => (event.wireId ? [event.wireId] : [])),
    feed: { ...DEFAULT_FEED_SETTINGS, WebSocket: NodeWebSocket as unknown as typeof WebSocket, ...options.feed },
    discoveryIntervalMs: options.discoveryIntervalMs,
    maintainEveryMs: options.maintainEveryMs,
    orphanAfterMs: options.orphanAfterMs,
  });

  function fold(events: LoggedEvent[]): void {
    for (const event of events) {
      const before = jobs.get(event.key);
      const after = reduceJob(before ?? newJob(event.sourceId, event.jobId, event.platform), event);
      jobs.set(event.key, after);
      observeStages(metrics, before, after);
      processedSeq = Math.max(processedSeq, event.seq);
    }
    recent.push(events);
    if (viewers.size === 0) return;
    const prepared = prepare(events);
    for (const viewer of viewers.values()) viewer.route(prepared);
  }
  await log.follow(fold);

  const flusher = setInterval(() => {
    const now = Date.now();
    let out = 0;
    for (const viewer of viewers.values()) out += viewer.flush(now);
    if (out) metrics.eventsOut.inc(out);
  }, FLUSH_MS);

  function refreshGauges(): void {
    metrics.jobs.reset();
    for (const job of jobs.values()) metrics.jobs.inc({ platform: job.platform, status: job.status });
    metrics.viewers.set(viewers.size);
    metrics.leases.set(leases.size);
    metrics.lag.set(Math.max(0, log.lastSeq() - processedSeq));
    metrics.upstream.reset();
    for (const feed of collector.upstream()) metrics.upstream.inc({ mode: feed.mode });
  }

  function connections(): RelayConnections {
    const now = Date.now();
    const streams = collector.streamsByOrigin();
    const budget = new Map<string, OriginBudget>();
    for (const source of collector.sources.values()) {
      const origin = originOf(source);
      const entry = budget.get(origin) ?? { origin, streams: streams.get(origin) ?? 0, max: source.maxStreams ?? DEFAULT_MAX_STREAMS, sources: [], relayId };
      entry.sources.push(source.name);
      budget.set(origin, entry);
    }
    return {
      relayId,
      at: now,
      feeds: collector.upstream().map((feed) => feedConnection(feed, jobs.get(feed.key), now, relayId)),
      budget: [...budget.values()],
      listings: collector.listings(),
    };
  }

  function authorized(request: http.IncomingMessage): boolean {
    const given = Buffer.from(request.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${options.token}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function cors(request: http.IncomingMessage, response: http.ServerResponse): void {
    const origin = request.headers.origin;
    if (origin && allowOrigins.has(origin)) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
      response.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID');
      response.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      response.setHeader('Access-Control-Max-Age', '600');
    }
  }

  function json(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(JSON.stringify(body));
  }

  async function readJson<T>(request: http.IncomingMessage, schema: v.GenericSchema<unknown, T>): Promise<T> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new RelayRequestError(413, 'Request body too large');
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch {
      throw new RelayRequestError(400, 'The request body is not JSON');
    }
    const parsed = v.safeParse(schema, body);
    if (!parsed.success) throw new RelayRequestError(400, `Unexpected request body: ${parsed.issues[0].message}`);
    return parsed.output;
  }

  /** Jobs a viewer opens are followed, whoever started them: their events reach it on its stream. */
  function followOpened(keys: readonly string[] = []): void {
    for (const key of keys) {
      const { sourceId, jobId } = splitJobKey(key);
      if (sourceId && jobId) void collector.watch(sourceId, jobId, { waitMs: 0 }).catch(() => undefined);
    }
  }

  async function openStream(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const interest = await readJson(request, StreamRequest);
    followOpened(interest.open);
    const lastEventId = Number(request.headers['last-event-id']);
    const resumeFrom = Number.isInteger(lastEventId) && lastEventId >= 0 && request.headers['last-event-id'] !== '' ? lastEventId : undefined;
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const registeredAt = processedSeq;
    const write = (frame: string) => {
      if (response.writableLength > MAX_BUFFERED_BYTES) {
        response.destroy();
        return false;
      }
      return response.write(frame);
    };
    const viewer = new Viewer(randomUUID(), write, registeredAt, interest);
    viewers.set(viewer.id, viewer);
    const ping = setInterval(() => write(': ping\n\n'), PING_MS);
    response.on('close', () => {
      clearInterval(ping);
      viewer.closed = true;
      viewers.delete(viewer.id);
    });
    write(helloFrame({ connection: viewer.id, relay: relayId, log: log.kind }));
    const backlog = resumeFrom === undefined ? undefined : (recent.after(resumeFrom) ?? (await log.after(resumeFrom)));
    if (backlog === undefined) {
      // a first visit, or a resume older than the log keeps: the board as it is now
      write(snapshotFrame(registeredAt, [...jobs.values()].map(boardJob)));
    } else {
      // what the viewer missed, in order, as the live route would have sent it
      const replay = new Viewer(viewer.id, write, resumeFrom!, interest);
      replay.route(prepare(backlog.filter((event) => event.seq <= registeredAt)));
      replay.ready = true;
      replay.flush(Number.POSITIVE_INFINITY);
    }
    viewer.ready = true;
  }

  async function route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://relay');
    cors(request, response);
    if (request.method === 'OPTIONS') {
      response.writeHead(204).end();
      return;
    }
    if (url.pathname === '/healthz') return json(response, 200, { relay: relayId, log: log.kind, seq: processedSeq });
    if (url.pathname === '/metrics' && request.method === 'GET') {
      refreshGauges();
      response.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      response.end(await metrics.registry.metrics());
      return;
    }
    if (!url.pathname.startsWith('/v1/')) return json(response, 404, { error: 'Not found' });
    if (!authorized(request)) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="genwatch-relay"');
      return json(response, 401, { error: 'The relay token is missing or wrong' });
    }
    const jobPath = url.pathname.match(/^\/v1\/jobs\/([^/]+)\/(events|cancel|follow-up)$/);
    const tokenPath = url.pathname.match(/^\/v1\/sources\/([^/]+)\/token$/);
    if (url.pathname === '/v1/insights/facts' && request.method === 'GET') {
      // every finished job the log holds, as /insights counts them: what no browser saw end too
      return json(
        response,
        200,
        [...jobs.values()].flatMap((job) => factsOf(job) ?? []),
      );
    }
    if (url.pathname === '/v1/connections' && request.method === 'GET') {
      const own = connections();
      return json(response, 200, { relays: options.gatherConnections ? await options.gatherConnections(own) : [own] });
    }
    if (tokenPath && request.method === 'POST') {
      const sourceId = decodeURIComponent(tokenPath[1]);
      const { token } = await readJson(request, TokenBody);
      const taken = options.shareToken ? await options.shareToken(sourceId, token) : await collector.renewToken(sourceId, token);
      return taken ? (response.writeHead(204).end(), undefined) : json(response, 404, { error: `No source '${sourceId}' on this relay` });
    }
    if (url.pathname === '/v1/stream' && request.method === 'POST') return openStream(request, response);
    if (url.pathname === '/v1/subscriptions' && request.method === 'POST') {
      const body = await readJson(request, SubscriptionRequest);
      const viewer = viewers.get(body.connection);
      if (!viewer) return json(response, 404, { error: 'No such stream: reconnect' });
      viewer.subscribe(body);
      followOpened(body.open);
      response.writeHead(204).end();
      return;
    }
    if (url.pathname === '/v1/watch' && request.method === 'POST') {
      // a backend hands over the jobs it starts: each is followed and shows on every dashboard
      const body = await readJson(request, WatchBody);
      const entries = Array.isArray(body) ? body : 'jobs' in body ? body.jobs : [body];
      const answers = await Promise.all(
        entries.map(async ({ source, id }) => ({
          source,
          id,
          path: `/jobs/${encodeURIComponent(source)}/${encodeURIComponent(id)}`,
          ...(await collector.watch(source, id)),
        })),
      );
      const refused = answers.every((answer) => answer.state === 'refused' || answer.state === 'not-found');
      return json(response, refused ? 404 : 202, { jobs: answers });
    }
    if (url.pathname === '/v1/sources' && request.method === 'GET') {
      // tokens for the platforms stay here
      const list = collector.configured.map(({ token: _token, ...source }) => source);
      return json(response, 200, list);
    }
    if (url.pathname === '/v1/jobs' && request.method === 'POST') {
      const body = await readJson(request, LaunchBody);
      const jobId = await collector.launch(body.sourceId, body.values);
      return json(response, 201, { jobId, cancellable: collector.cancellable(`${body.sourceId}/${jobId}`) });
    }
    if (jobPath) {
      const key = decodeURIComponent(jobPath[1]);
      if (jobPath[2] === 'events' && request.method === 'GET') return json(response, 200, await log.history(key));
      if (jobPath[2] === 'cancel' && request.method === 'POST') {
        const cancelled = collector.cancel(key) || ((await options.forwardCancel?.(key)) ?? false);
        return cancelled
          ? json(response, 202, { cancelled: key })
          : json(response, 409, { error: 'This job cannot be cancelled: no relay follows it on a stream it can close' });
      }
      if (jobPath[2] === 'follow-up' && request.method === 'POST') {
        const body = await readJson(request, FollowUpBody);
        const { sourceId, jobId } = splitJobKey(key);
        return json(response, 201, { jobId: await collector.followUp(sourceId, jobId, body.instruction) });
      }
    }
    return json(response, 404, { error: 'Not found' });
  }

  const server = http.createServer((request, response) => {
    route(request, response).catch((error: Error) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status = error instanceof RelayRequestError ? error.status : error instanceof LaunchValidationError ? 400 : 502;
      json(response, status, { error: error.message, ...(error instanceof LaunchValidationError ? { fields: error.fields } : {}) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  collector.start();
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    relayId,
    collector,
    log,
    jobs,
    connections,
    allowOrigin: (origin) => void allowOrigins.add(new URL(origin).origin),
    async close({ crash = false } = {}) {
      clearInterval(flusher);
      await collector.stop({ release: !crash });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
    },
  };
}
