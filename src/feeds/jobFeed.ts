import { jobFacts, type JobEvent } from '../model/events';
import { isTerminal, jobKey, type LinkState, type Transport } from '../model/job';
import {
  DEFAULT_MAX_EVENT_CHARS,
  type Dialect,
  type JobLookup,
  type JobRef,
  type StreamRequest,
  type WireContext,
  type WireMessage,
} from '../protocols/dialect';
import { requestFirst, routeBook, type RouteCandidate } from '../protocols/routes';
import type { Source } from '../protocols/source';
import { protocolError } from '../protocols/wire';
import { isTransportError, type TransportError } from '../transports/error';
import { Poller, type PollSignal } from '../transports/poll';
import type { CloseReason, ReconnectPolicy } from '../transports/reconnect';
import { SseConnection, type SseSignal } from '../transports/sse';
import { isPolicyClose, WsConnection, type WsSignal } from '../transports/websocket';
import { fellBackAt, isFollowing, modeOf, type FeedMode, type FeedState } from './feedState';
import { DEFAULT_FEED_SETTINGS, type FeedSettings, type Identified } from './feedSettings';
import { HealthMeter, type FeedHealth } from './healthMeter';
import { HeldEnd, SignWatch } from './idWatch';
import { WireOrder } from './wireOrder';

export interface JobFeedOptions {
  source: Source;
  dialect: Dialect;
  ref: JobRef;
  /** where the feed's events go */
  emit: (events: JobEvent[]) => void;
  /** told when the feed starts or stops streaming, polling or waiting, or ends */
  onModeChange: (feed: JobFeed) => void;
  /** @default DEFAULT_FEED_SETTINGS */
  settings?: FeedSettings;
  /** the stream that is the job itself (a Takoss POST): opened at once, never re-requested */
  pinnedStream?: StreamRequest;
  /**
   * Nothing is known of this id (opened by URL, registered by a backend): ask the platform
   * what it is before following it, since some streams answer any id.
   */
  identify?: boolean;
}

/**
 * How long a job the platform could not be asked about may show only signs of life, and a
 * finished job's held end may wait for its replayed history: long enough for a task opened
 * just before its start to begin, short enough that an operator who pasted a wrong id learns
 * it before giving up on the page.
 */
const CONFIRM_WITHIN_MS = 5000;

/** A batch that tells the job ended. */
const endsJob = (events: readonly JobEvent[]) =>
  events.some((event) => event.kind === 'update' && event.update.status !== undefined && isTerminal(event.update.status));

/** status answers that fail in a row with a server error before the endpoint counts as broken */
const BROKEN_AFTER = 3;

export type { FeedHealth, FeedMode, FeedState };

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  let settled = false;
  const promise = new Promise<void>((res, rej) => {
    resolve = () => {
      settled = true;
      res();
    };
    reject = (error) => {
      settled = true;
      rej(error);
    };
  });
  promise.catch(() => {}); // nobody may be waiting: not an unhandled rejection
  return {
    promise,
    resolve,
    reject,
    get settled() {
      return settled;
    },
  };
}

/** 401, 403 and 404 will not pass by asking again: the operator has to act. */
const OPERATOR_MUST_ACT = new Set([401, 403, 404]);

/**
 * Keeps one job current: streams it (SSE or WebSocket) when given a slot, polls it otherwise,
 * falls back from a failing stream to polling, and stops once the job has finished. Emits
 * normalized JobEvents, including `link` events that tell the operator which transport
 * carries the job and how it is.
 */
export class JobFeed {
  private state: FeedState = { phase: 'idle' };
  /** the stream is the job itself (a Takoss POST): always streamed, never re-requested */
  readonly pinned: boolean;
  readonly source: Source;
  readonly dialect: Dialect;
  /** what is known of the job: an identified one may turn out to be another variant */
  ref: JobRef;
  /** asked to identify its job, and the platform has not answered what it is (a refused token, say) */
  unidentified = false;
  readonly key: string;
  readonly jobId: string;
  readonly meter: HealthMeter;
  private readonly emit: (events: JobEvent[]) => void;
  private readonly onModeChange: (feed: JobFeed) => void;
  private readonly settings: FeedSettings;
  private readonly pinnedStream: StreamRequest | undefined;
  private sse: SseConnection | undefined;
  private ws: WsConnection | undefined;
  private poller: Poller | undefined;
  private lastEventId = '';
  private lastLink = '';
  private lastHeartbeatAt = 0;
  private snapshotTaken = false;
  private lastPollBody: string | undefined;
  private closedBytes = 0;
  /** the stream being read, while there is one */
  private request: Exclude<StreamRequest, { transport: 'none' }> | undefined;
  /** the last update's key off a socket: the same state again is an answer to a poll, not news */
  private lastSocketKey: string | undefined;
  private draining: ReturnType<typeof setTimeout> | undefined;
  private readonly wire = new WireOrder<JobEvent[]>(
    (events) => this.deliver(events),
    () => this.integrity({ duplicates: 1 }),
    (missing) => {
      if (missing > 0) {
        this.integrity({ gaps: 1 });
        void this.fetchSnapshot();
      }
    },
  );
  private readonly opened = deferred();
  private readonly updated = deferred();
  /** settles when the stream first opens, or fails when the feed halts before that */
  readonly whenOpen = this.opened.promise;
  /** settles with the first update from the platform */
  readonly firstUpdate = this.updated.promise;
  private identifiedAs: ((outcome: Identified) => void) | undefined;
  /** what identifying the job found (at once 'found' for a feed that did not need to ask) */
  readonly identified = new Promise<Identified>((resolve) => (this.identifiedAs = resolve));
  /** a job the platform could not be asked about, not yet seen doing anything: watched for a sign of it */
  private readonly signs: SignWatch;
  /** the row of a finished job, held until its stream has sent the history again */
  private readonly heldEnd: HeldEnd;

  constructor(options: JobFeedOptions) {
    this.source = options.source;
    this.dialect = options.dialect;
    this.ref = options.ref;
    this.emit = options.emit;
    this.onModeChange = options.onModeChange;
    this.settings = options.settings ?? DEFAULT_FEED_SETTINGS;
    this.pinnedStream = options.pinnedStream;
    this.jobId = this.ref.jobId;
    this.key = jobKey(this.source.id, this.ref.jobId);
    this.pinned = this.pinnedStream !== undefined;
    this.meter = new HealthMeter(this.source.heartbeatMs ?? this.dialect.heartbeatMs);
    const confirmWithinMs = this.settings.confirmWithinMs ?? CONFIRM_WITHIN_MS;
    this.signs = new SignWatch(confirmWithinMs, (sawInstead) => this.noSign(sawInstead));
    this.heldEnd = new HeldEnd(confirmWithinMs, () => this.releaseEnd());
    if (options.identify) {
      this.unidentified = true;
      this.enter({ phase: 'identifying' });
    } else this.identifiedAs?.('found');
  }

  /** The one way a feed's state changes. */
  private enter(next: FeedState): void {
    this.state = next;
  }

  /** the connections it holds or waits for */
  get mode(): FeedMode {
    return modeOf(this.state);
  }

  get active(): boolean {
    return isFollowing(this.state);
  }

  /** the job finished: nothing more to fetch */
  get done(): boolean {
    return this.state.phase === 'done' || this.state.phase === 'draining';
  }

  /** stopped on an error only the operator can fix (a rejected token, a missing job) */
  get halted(): boolean {
    return this.state.phase === 'halted';
  }

  /** why it halted, in the words the job's page shows */
  get haltedBecause(): string | undefined {
    return this.state.phase === 'halted' ? this.state.because : undefined;
  }

  /** asking the platform what the id is: not streamed or polled until it has answered */
  get identifying(): boolean {
    return this.state.phase === 'identifying';
  }

  /** the stream failed past its reconnect budget; the feed stays off it until a probe */
  get streamFailed(): boolean {
    return fellBackAt(this.state) !== undefined;
  }

  /** when the stream last failed past its budget (or a probe was put off); a probe is due `streamRetryMs` later */
  get streamFailedAt(): number {
    return fellBackAt(this.state) ?? 0;
  }

  /** No stream slot for a probe now: tried again `streamRetryMs` from now. */
  postponeProbe(): void {
    const { state } = this;
    if ((state.phase === 'idle' || state.phase === 'queued' || state.phase === 'poll') && state.fellBackAt !== undefined)
      this.enter({ ...state, fellBackAt: Date.now() });
  }

  /** the feed rests, off its stream; one whose stream had failed remembers it */
  private rest(fellBack = fellBackAt(this.state)): void {
    this.enter({ phase: 'idle', fellBackAt: fellBack });
  }

  /**
   * Asks the platform what this id is, then lets the manager stream or poll it: as the variant
   * it turned out to be, not at all when the platform says it knows no such job, and watched
   * for a sign of it when the platform could not say. Resolves when it is known.
   */
  async identify(): Promise<void> {
    if (!this.identifying) return;
    const asking = this.dialect.lookup;
    if (asking) this.link('none', 'connecting', `Asking ${this.source.name} what ${this.jobId} is`);
    let lookup: JobLookup;
    try {
      lookup = asking ? await asking.call(this.dialect, this.source, this.jobId, this.settings.fetch) : { state: 'unknown' };
    } catch (error) {
      if (!this.active) return this.identifiedAs?.('stopped');
      if (isTransportError(error) && error.status !== 404 && this.mustOperatorAct(error)) return this.identifiedAs?.('refused');
      // the platform could not be asked now: what it streams will tell
      lookup = { state: 'unknown', detail: (error as Error).message };
    }
    this.unidentified = false;
    // stopped while the platform was asked: not acted on
    if (!this.identifying) return this.identifiedAs?.(this.active ? lookup.state : 'stopped');
    this.rest();
    const now = Date.now();
    if (lookup.state === 'found') {
      this.ref = { ...this.ref, ...lookup.ref, request: this.ref.request };
      const raw = lookup.events.find((event) => event.raw !== undefined)?.raw;
      if (raw !== undefined) this.settings.observe?.(this.source, 'lookup', raw, lookup.events);
      const finished = endsJob(lookup.events);
      // a finished job's stream adds nothing, unless it sends its history again
      if (finished && !lookup.replays) this.deliver(lookup.events);
      else if (finished) this.holdEnd(lookup.events);
      else this.emit(lookup.events);
    } else if (lookup.state === 'not-found') {
      const answer = `${this.source.name} knows no job by this id: ${lookup.answer}`;
      this.emit([
        { ...this.base(now), kind: 'update', label: 'not found', update: { notFound: { answer: lookup.answer, final: lookup.final }, message: answer } },
      ]);
      if (lookup.final) {
        this.halt(answer, false);
        this.onModeChange(this);
      }
    } else {
      if (lookup.detail)
        this.emit([
          {
            ...this.base(now),
            kind: 'notice',
            level: 'info',
            text: `${this.source.name} could not say what this id is (${lookup.detail}): what it sends will`,
          },
        ]);
      this.signs.start();
    }
    this.identifiedAs?.(lookup.state);
  }

  /** A finished job whose stream sends its history again: its facts now, its end after that history. */
  private holdEnd(events: JobEvent[]): void {
    this.emit(events.map((event) => (event.kind === 'update' ? { ...event, update: jobFacts(event.update) } : event)));
    this.heldEnd.hold(events);
  }

  /** Ends the job with its row, when its stream did not: true when it did. */
  private releaseEnd(): boolean {
    const events = this.heldEnd.take();
    if (!events || !this.active) return false;
    this.deliver(events);
    return true;
  }

  /** No sign of the job in time: shown as not found, still listened to. */
  private noSign(sawInstead: string): void {
    if (!this.active) return;
    const answer = `in ${Math.round(this.signs.waitMs / 1000)} s it sent ${sawInstead ? `only ${sawInstead}` : 'nothing'} for this id, no sign of a job`;
    this.emit([
      {
        ...this.base(Date.now()),
        kind: 'update',
        label: 'not found',
        update: { notFound: { answer, final: false }, message: `${this.source.name} shows no job by this id: ${answer}. Still listening.` },
      },
    ]);
  }

  /** what the connections page shows of this feed */
  get health(): FeedHealth {
    return this.meter.health;
  }

  /** The sign-of-life interval to expect on this stream: the source's, the stream's, or the dialect's. */
  private heartbeatFor(request: Exclude<StreamRequest, { transport: 'none' }>): number | undefined {
    if (request.heartbeatMs === null) return undefined;
    return this.source.heartbeatMs ?? request.heartbeatMs ?? this.dialect.heartbeatMs;
  }

  /** bytes received over every connection of this feed */
  get bytes(): number {
    return this.closedBytes + (this.sse?.bytesReceived ?? this.ws?.bytesReceived ?? 0);
  }

  /** Try again now instead of waiting out a backoff or a poll interval. */
  wake(): void {
    this.sse?.wake();
    this.ws?.wake();
    this.poller?.pollNow();
  }

  /** Events of this job shown before (restored from history): not again, and resume after them. */
  seed(wireIds: readonly string[]): void {
    this.wire.seed(wireIds);
    const numeric = wireIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
    if (numeric.length && this.lastEventId === '') this.lastEventId = String(Math.max(...numeric));
  }

  /** After a fallback, try the stream once more (the manager calls this when it is due). */
  probeStream(): void {
    if (!this.active || !this.streamFailed) return;
    this.openStream(true);
  }

  /** Where to poll, unless the platform has nothing to poll or the endpoint is known broken. */
  get statusRequest(): { urls: RouteCandidate[]; route: string } | undefined {
    if (!this.dialect.parseStatus) return undefined;
    const request = this.dialect.statusRequest?.(this.source, this.ref);
    if (!request || request.urls.length === 0) return undefined;
    if (routeBook.isAbsent(this.source.baseUrl, request.route) || routeBook.brokenBecause(this.source.baseUrl, request.route)) return undefined;
    return request;
  }

  get canPoll(): boolean {
    return this.statusRequest !== undefined;
  }

  stream(): void {
    this.openStream(false);
  }

  /** @param probe a try after the stream failed past its budget: not reconnected when it fails */
  private openStream(probe: boolean): void {
    if (!this.active || this.identifying || this.state.phase === 'stream') return;
    this.heldEnd.arm();
    const request = this.pinnedStream ?? this.dialect.streamRequest(this.source, this.ref);
    if (request.transport === 'none') {
      // a probe, or a free slot, finds the platform still offers no stream: a poll going on goes on
      if (this.canPoll) {
        const now = Date.now();
        if (this.poller) this.enter({ phase: 'poll', fellBackAt: now });
        else {
          this.rest(now);
          this.poll(request.reason);
        }
      } else {
        // nothing is broken: the platform simply offers this viewer no stream
        this.stopTransports();
        this.halt(request.reason, false);
      }
      this.onModeChange(this);
      return;
    }
    this.stopTransports();
    this.enter({ phase: 'stream', probe });
    this.request = request;
    this.lastSocketKey = undefined;
    // a stream that is the job's own start has nothing before it to catch up on
    if (this.dialect.snapshotBeforeStream && !this.pinned && !this.snapshotTaken && this.canPoll) {
      this.snapshotTaken = true;
      void this.fetchSnapshot();
    }
    const heartbeatMs = this.heartbeatFor(request);
    this.meter.expectHeartbeat(heartbeatMs);
    // no byte for 3x the expected heartbeat means the stream is dead
    const stallTimeoutMs = heartbeatMs ? heartbeatMs * 3 : 0;
    const [first, ...fallbacks] = request.urls;
    if (request.transport === 'websocket') {
      this.link('websocket', 'connecting');
      this.ws = new WsConnection({
        url: first.url,
        fallbackUrls: fallbacks.map((candidate) => candidate.url),
        outgoing: request.outgoing,
        handshakeProbeUrl: request.handshakeProbeUrl,
        reconnect: this.reconnectPolicy(true, probe),
        stallTimeoutMs,
        WebSocket: this.settings.WebSocket,
        onSignal: (signal) => this.onWs(signal),
      }).start();
      return;
    }
    this.link('sse', 'connecting');
    this.sse = new SseConnection({
      url: first?.url ?? '',
      fallbackUrls: fallbacks.map((candidate) => candidate.url),
      prepare: request.prepare,
      renewAfterMs: request.renewAfterMs,
      method: request.method,
      body: request.body,
      headers: () => ({ ...this.dialect.authHeaders(this.source), ...request.headers }),
      lastEventId: this.lastEventId,
      reconnect: this.reconnectPolicy(request.resumable, probe, request.retryFloorMs),
      stallTimeoutMs,
      fetch: this.settings.fetch,
      onSignal: (signal) => this.onSse(signal),
    }).start();
  }

  /**
   * The one reconnect policy of this feed's streams: the settings' backoff, no reconnect at all
   * for a stream that would start something new (a POST that is the job) or for a probe of a
   * stream that failed before, and the stream's own floor.
   */
  private reconnectPolicy(resumable: boolean, probe: boolean, floorMs = 0): Partial<ReconnectPolicy> {
    return { ...this.settings.reconnect, maxReconnects: !resumable || probe ? 0 : this.settings.reconnect.maxReconnects, onEnd: resumable, floorMs };
  }

  /** The path that answered is the one to try first next time, for every job of this deployment. */
  private confirmRoute(candidates: readonly RouteCandidate[], route: string | undefined, url: string): void {
    const answered = candidates.find((candidate) => candidate.url === url);
    if (route && answered) routeBook.confirm(this.source.baseUrl, route, answered.variant);
  }

  /** Poll where the platform allows it; otherwise wait for a stream slot. */
  poll(why?: string): void {
    if (!this.active || this.identifying || this.mode === 'poll' || this.mode === 'queued') return;
    if (this.pinned) return this.stream();
    const fellBack = fellBackAt(this.state);
    this.stopTransports();
    const status = this.statusRequest;
    if (!status) {
      this.enter({ phase: 'queued', fellBackAt: fellBack });
      const broken = this.brokenStatus();
      this.link('none', 'idle', broken ? `Waiting for a free stream slot: ${broken}` : 'Waiting for a free stream slot');
      return;
    }
    this.enter({ phase: 'poll', fellBackAt: fellBack });
    this.link('polling', 'polling', why ?? `Polling every ${this.settings.pollIntervalMs / 1000} s (stream slots in use)`);
    const [first, ...fallbacks] = status.urls;
    this.poller = new Poller({
      url: first.url,
      fallbackUrls: fallbacks.map((candidate) => candidate.url),
      headers: () => this.dialect.authHeaders(this.source),
      intervalMs: this.settings.pollIntervalMs,
      fetch: this.settings.fetch,
      onSignal: (signal) => this.onPoll(signal),
    }).start();
  }

  stop(): void {
    clearTimeout(this.draining);
    this.draining = undefined;
    this.heldEnd.stop();
    this.signs.stop();
    this.stopTransports();
    this.wire.flush();
    // a lookup still under way is not acted on
    if (this.state.phase === 'draining') this.enter({ phase: 'done' });
    else if (this.active) this.rest();
  }

  /** Polling what can no longer be polled (the endpoint broke for the deployment): wait for a stream slot instead. */
  requeue(): void {
    if (this.mode !== 'poll' || this.canPoll || this.pinned) return;
    this.poller?.stop();
    this.poller = undefined;
    // off a stream only because the endpoint was there to poll: it contends for a slot again
    this.rest(undefined);
    this.poll();
  }

  /** Why this platform's status endpoint is not polled, when it is known broken. */
  private brokenStatus(): string | undefined {
    const route = this.dialect.parseStatus ? this.dialect.statusRequest?.(this.source, this.ref)?.route : undefined;
    return route ? routeBook.brokenBecause(this.source.baseUrl, route) : undefined;
  }

  /** The operator cancelled: a job whose stream is its request ends with it. */
  cancel(): void {
    if (!this.active) return;
    this.enter({ phase: 'done' });
    this.stop();
    const now = Date.now();
    this.emit([{ ...this.base(now), kind: 'update', label: 'cancelled', update: { status: 'cancelled', message: 'Cancelled by the operator' } }]);
    // Takoss's own code goes on without its client; its guide stops: either way it is not followed now
    this.link('none', 'closed', 'Cancelled: the request that was the job was aborted; a platform that goes on without it lists the result when done');
    this.onModeChange(this);
  }

  private stopTransports(): void {
    this.closedBytes = this.bytes;
    this.request = undefined;
    this.sse?.close();
    this.sse = undefined;
    this.ws?.close();
    this.ws = undefined;
    this.poller?.stop();
    this.poller = undefined;
  }

  private base(at: number) {
    return { key: this.key, sourceId: this.source.id, jobId: this.jobId, platform: this.dialect.kind, at, receivedAt: at };
  }

  private context(receivedAt: number): WireContext {
    return { source: this.source, jobId: this.jobId, receivedAt, variant: this.ref.variant };
  }

  /** One fresh state from the status endpoint: before a stream that does not replay, or after a gap. */
  private async fetchSnapshot(): Promise<void> {
    const status = this.statusRequest;
    if (!status) return;
    try {
      const { body, variant } = await requestFirst(this.source.baseUrl, status.route, status.urls, {
        headers: this.dialect.authHeaders(this.source),
        fetch: this.settings.fetch,
      });
      void variant;
      const text = JSON.stringify(body);
      const events = this.dialect.parseStatus!(this.context(Date.now()), text);
      this.settings.observe?.(this.source, 'status', text, events);
      if (this.active) this.deliver(events);
    } catch (error) {
      if (!isTransportError(error) || !this.active) return;
      if (error.status !== undefined && error.status >= 500) this.noteStatusFailure(status.route, error);
      else if (!error.unavailable && !error.routeMissing) this.mustOperatorAct(error);
    }
  }

  private statusFailures = 0;
  /** why this viewer has no stream, when the platform offers none (kept for what the poll finds) */
  private noStreamBecause: string | undefined;

  /** Server errors from the status endpoint in a row make it broken for the whole deployment. */
  private noteStatusFailure(route: string, error: TransportError): boolean {
    this.statusFailures++;
    if (this.statusFailures < BROKEN_AFTER) return false;
    routeBook.markBroken(this.source.baseUrl, route, `the status endpoint answers ${error.message}`);
    return true;
  }

  private integrity(counts: { duplicates?: number; gaps?: number }): void {
    this.meter.integrity(counts);
    this.emit([{ ...this.base(Date.now()), kind: 'integrity', ...counts }]);
  }

  /** A stream message as events; one over the size limit is counted as invalid without being read. */
  private parse(at: number, message: WireMessage): JobEvent[] {
    const limit = this.dialect.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
    if (message.data.length > limit) {
      const kb = (chars: number) => Math.ceil(chars / 1024);
      const raw = `${message.data.slice(0, 200)}…`;
      const events = [
        protocolError(this.dialect.kind, this.context(at), raw, `A ${kb(message.data.length)} KB event is over the ${kb(limit)} KB limit: not read`),
      ];
      this.settings.observe?.(this.source, 'stream', raw, events);
      return events;
    }
    const events = this.dialect.parseStreamMessage(this.context(at), message);
    this.settings.observe?.(this.source, 'stream', message.data, events);
    return events;
  }

  private fromWire(events: JobEvent[], fromSocket = false): void {
    const now = Date.now();
    this.meter.signOfLife(now, this.mode === 'stream');
    const key = events.find((event) => event.kind === 'update')?.wireId;
    if (fromSocket && key !== undefined) {
      // A socket never replays: the same state twice in a row answers a progress poll.
      if (key === this.lastSocketKey) {
        this.heartbeat(now);
        return;
      }
      this.lastSocketKey = key;
    }
    this.meter.read(events, now);
    this.wire.push(fromSocket ? undefined : key, events);
  }

  private deliver(events: JobEvent[]): void {
    if (events.length === 0) return;
    this.signs.note(events);
    this.emit(events);
    if (!this.updated.settled && events.some((event) => event.kind === 'update')) this.updated.resolve();
    if (endsJob(events) && this.active) {
      this.heldEnd.drop();
      const drainMs = this.request?.drainMs ?? 0;
      if (drainMs > 0 && (this.sse || this.ws)) {
        // what the platform still sends after the end (a result, a closing frame) is read too
        this.enter({ phase: 'draining' });
        this.draining = setTimeout(() => this.stop(), drainMs);
      } else {
        this.enter({ phase: 'done' });
        this.stop();
      }
      this.link('none', 'closed', 'Job finished');
      this.onModeChange(this);
    }
  }

  /** After the end, only trailing messages still matter; anything else of the stream ends it. */
  private drained(signal: { type: string }): boolean {
    if (!this.done) return false;
    if (signal.type === 'message' || signal.type === 'comment') return false;
    if (signal.type === 'retrying' || signal.type === 'stalled' || signal.type === 'closed') this.stop();
    return true;
  }

  private onSse(signal: SseSignal): void {
    if (this.drained(signal)) return;
    switch (signal.type) {
      case 'open':
        if (this.request) this.confirmRoute(this.request.urls, this.request.route, signal.url);
        this.onOpen('sse');
        return;
      case 'message':
        this.lastEventId = signal.lastEventId;
        this.fromWire(this.parse(signal.at, signal));
        return;
      case 'comment':
        this.heartbeat(signal.at);
        return;
      case 'stalled':
        this.onStalled('sse', signal.silentMs);
        return;
      case 'retrying':
        this.reconnecting('sse', signal);
        return;
      case 'closed':
        this.sse = undefined;
        this.onStreamClosed(signal.reason, signal.error);
        return;
      default:
        return;
    }
  }

  private onWs(signal: WsSignal): void {
    if (this.drained(signal)) return;
    switch (signal.type) {
      case 'open':
        if (this.request) this.confirmRoute(this.request.urls, this.request.route, signal.url);
        this.onOpen('websocket');
        return;
      case 'message':
        this.fromWire(this.parse(signal.at, { data: signal.data, event: 'message', lastEventId: '', binary: signal.binary }), true);
        return;
      case 'stalled':
        this.onStalled('websocket', signal.silentMs);
        return;
      case 'retrying':
        this.reconnecting('websocket', signal);
        return;
      case 'closed': {
        this.ws = undefined;
        // A policy close (1008, 4xxx) or a refused handshake is the socket's 401: a new token.
        const policy = signal.error && (signal.error.kind === 'handshake' || isPolicyClose(signal.error.closeCode ?? 0));
        this.onStreamClosed(signal.reason, policy ? signal.error!.with({ status: 401 }) : signal.error);
        return;
      }
      default:
        return;
    }
  }

  private onOpen(transport: Transport): void {
    this.opened.resolve();
    // a platform without ids may start a new connection by sending everything again
    this.wire.expectReplay();
    this.meter.connected();
    // a probe that opens means the stream is back: stay on it
    if (this.state.phase === 'stream') this.enter({ phase: 'stream', probe: false });
    this.link(transport, 'live');
  }

  private onStalled(transport: Transport, silentMs: number): void {
    this.meter.stalled();
    // shown stale at once; the transport drops the connection and reconnects
    this.link(transport, 'stale', `No data for ${Math.round(silentMs / 1000)} s: the connection looks dead, reconnecting`);
  }

  private reconnecting(transport: Transport, signal: { error: TransportError; attempt: number; delayMs: number }): void {
    this.meter.reconnecting();
    this.link(transport, 'reconnecting', `${signal.error.message}; reconnect ${signal.attempt} in ${(signal.delayMs / 1000).toFixed(1)} s`, {
      reconnect: true,
    });
  }

  private onStreamClosed(reason: CloseReason, error?: TransportError): void {
    this.meter.disconnected();
    if (reason === 'aborted' || !this.active) return;
    if (this.releaseEnd()) return;
    const probe = this.state.phase === 'stream' && this.state.probe;
    this.rest();
    if (reason === 'fatal' && error?.unavailable) {
      // nothing is broken: this viewer gets no stream here, only what can be polled or listed
      this.rest(Date.now());
      this.noStreamBecause = error.message;
      if (this.canPoll) this.poll(error.message);
      else this.halt(error.message, false);
      this.onModeChange(this);
      return;
    }
    if (reason === 'fatal' && error && this.mustOperatorAct(error)) return;
    if (this.pinned) {
      this.halt(error?.message ?? 'The stream ended before the job finished; this platform cannot resume it');
      this.onModeChange(this);
      return;
    }
    this.rest(Date.now());
    if (!probe) this.meter.fellBack();
    if (this.canPoll) {
      const why = probe
        ? `Stream still unavailable (${error?.message ?? 'no reason'}): polling every ${this.settings.pollIntervalMs / 1000} s`
        : reason === 'gave-up'
          ? `Stream failed ${this.settings.reconnect.maxReconnects} reconnects (${error?.message ?? 'no reason'}): polling every ${this.settings.pollIntervalMs / 1000} s`
          : `Stream unusable (${error?.message ?? 'ended early'}): polling every ${this.settings.pollIntervalMs / 1000} s`;
      this.poll(why);
    } else {
      this.halt(error?.message ?? 'The stream ended before the job finished');
    }
    this.onModeChange(this);
  }

  private onPoll(signal: PollSignal): void {
    if (!this.active) return;
    switch (signal.type) {
      case 'response': {
        this.closedBytes += signal.body.length;
        this.statusFailures = 0;
        const status = this.dialect.statusRequest?.(this.source, this.ref);
        if (status) {
          this.confirmRoute(status.urls, status.route, signal.url);
          routeBook.clearBroken(this.source.baseUrl, status.route);
        }
        if (!this.lastLink.startsWith('polling|polling|')) this.link('polling', 'polling', 'Polling recovered');
        // an unchanged status says nothing new: neither the job nor its log needs it again
        if (signal.body === this.lastPollBody) {
          this.meter.signOfLife(signal.at, false);
          this.emit([{ ...this.base(signal.at), kind: 'heartbeat' }]);
          return;
        }
        this.lastPollBody = signal.body;
        const events = this.dialect.parseStatus!(this.context(signal.at), signal.body);
        this.settings.observe?.(this.source, 'status', signal.body, events);
        this.fromWire(events);
        return;
      }
      case 'failed': {
        const route = this.dialect.statusRequest?.(this.source, this.ref)?.route;
        if (route && signal.error.status !== undefined && signal.error.status >= 500 && this.noteStatusFailure(route, signal.error)) {
          // the endpoint is broken, not the job: wait for a stream instead of polling a wall
          this.requeue();
          this.onModeChange(this);
          return;
        }
        this.link('polling', 'reconnecting', `${signal.error.message} (${signal.consecutive} in a row)`);
        return;
      }
      case 'closed':
        if (signal.reason === 'stopped') return;
        this.poller = undefined;
        this.rest();
        if (signal.error?.routeMissing) {
          // the platform has no such endpoint at all: nothing is broken, there is just nothing to poll
          const route = this.dialect.statusRequest?.(this.source, this.ref)?.route;
          if (route) routeBook.markAbsent(this.source.baseUrl, route);
          this.halt(`${this.noStreamBecause ?? 'No stream'}; the platform has no status endpoint for it`, false);
          this.onModeChange(this);
          return;
        }
        if (signal.error && this.mustOperatorAct(signal.error)) return;
        this.halt(`Polling stopped: ${signal.error?.message ?? 'unknown error'}`);
        this.onModeChange(this);
        return;
    }
  }

  private mustOperatorAct(error: TransportError): boolean {
    if (error.status === undefined || !OPERATOR_MUST_ACT.has(error.status)) return false;
    this.halt(error.message, true, error.status === 401);
    this.onModeChange(this);
    return true;
  }

  private halt(detail: string, fatal = true, needsToken = false): void {
    // a refused or broken stream of a job known to be over: it is over, nothing to ask for
    if (this.releaseEnd()) return;
    this.enter({ phase: 'halted', because: detail });
    this.stop();
    if (!this.opened.settled) this.opened.reject(new Error(detail));
    this.link('none', fatal ? 'error' : 'idle', detail, { fatal, needsToken });
  }

  /** at most one heartbeat event a second: enough for staleness, cheap under chatty pings */
  private heartbeat(at: number): void {
    this.signs.heartbeat();
    this.meter.heartbeat(at);
    this.meter.signOfLife(at, this.mode === 'stream');
    if (at - this.lastHeartbeatAt < 1000) return;
    this.lastHeartbeatAt = at;
    this.emit([{ ...this.base(at), kind: 'heartbeat' }]);
  }

  private link(transport: Transport, link: LinkState, detail?: string, extra: { reconnect?: boolean; fatal?: boolean; needsToken?: boolean } = {}): void {
    const signature = `${transport}|${link}|${detail ?? ''}`;
    if (signature === this.lastLink && !extra.reconnect) return;
    this.lastLink = signature;
    this.meter.linked(transport, link);
    this.emit([{ ...this.base(Date.now()), kind: 'link', transport, link, detail, ...extra }]);
  }
}
