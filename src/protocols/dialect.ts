import type { JobEvent, WireMismatch } from '../model/events';
import type { PlatformKind } from '../model/job';
import type { LaunchSchema } from './launch';
import type { RouteCandidate } from './routes';
import type { Source } from './source';

/**
 * What genwatch holds about one job beyond its ids: its variant and, for platforms that hand
 * out per-job credentials (a CodeBegen iteration's sse_token), that secret. Memory only.
 */
export interface JobRef {
  jobId: string;
  variant?: string;
  secret?: string;
  /**
   * The id this dashboard gave the platform for its own connection when it started the job
   * (ComfyUI's clientId): the platform sends the job's progress to that connection only.
   */
  session?: string;
  /** the request that started it from this dashboard, to start the same again */
  request?: unknown;
}

/** What every stream request may say beyond its URL. */
interface StreamCommon {
  /**
   * Where the stream lives, in the order to try: a platform's code and its guide disagree on
   * some paths, so a 404 for the path moves on to the next, and the one that opens is
   * remembered under `route` for the deployment.
   */
  urls: RouteCandidate[];
  /** the name under which the answering path is remembered (see RouteBook) */
  route?: string;
  /** the URL with its credentials masked, for anything shown or logged */
  displayUrl?: string;
  /**
   * The platform's sign-of-life interval on this stream, when it differs from the dialect's;
   * null: this stream sends none, so silence says nothing.
   */
  heartbeatMs?: number | null;
  /**
   * After the job has ended, keep reading this long for what the platform still sends
   * (Takoss's `result` after `complete`); 0 closes at once. @default 0
   */
  drainMs?: number;
}

export type StreamRequest =
  | (StreamCommon & {
      transport: 'sse';
      method: 'GET' | 'POST';
      body?: string;
      headers?: Record<string, string>;
      /** false where reconnecting would start something new (a POST that is the job) */
      resumable: boolean;
      /**
       * Run before every attempt, for a URL (and headers) that can be used only once: a fresh
       * single-use token each time. Throws a TransportError when none can be had.
       */
      prepare?: () => Promise<{ url: string; headers?: Record<string, string> }>;
      /** reconnect after this long on one connection (a platform that stops delivering to old ones) */
      renewAfterMs?: number;
      /** wait at least this long before any reconnect (a platform that rations what a connection needs) */
      retryFloorMs?: number;
    })
  | (StreamCommon & {
      transport: 'websocket';
      /** sent once on open, and on an interval while open (a platform that answers polls only) */
      outgoing?: { onOpen?: string[]; every?: { text: string; ms: number } };
      /** an http(s) URL of the same server, to tell a refused handshake from a dead network */
      handshakeProbeUrl?: string;
    })
  /** the platform offers no stream for this job to this viewer, and why */
  | { transport: 'none'; reason: string };

/** One message off a stream: SSE fields, or a WebSocket message as `data`. */
export interface WireMessage {
  data: string;
  /** the SSE event name ('message' when none) */
  event: string;
  /** this event's own SSE id, when it carried one */
  id?: string;
  lastEventId: string;
  /** a binary WebSocket frame; `data` then only describes it */
  binary?: Uint8Array;
}

export interface WireContext {
  source: Source;
  jobId: string;
  receivedAt: number;
  /** what kind of job of its platform, where known (an iteration reads its stream differently) */
  variant?: string;
}

/** A job a discovery listing or a launch reported, with what is known of it so far. */
export interface JobSighting {
  jobId: string;
  events: JobEvent[];
  finished: boolean;
  variant?: string;
}

export interface Launched {
  ref: JobRef;
  events: JobEvent[];
  /** the stream that is the job itself (a Takoss POST), opened at once and never queued */
  pinnedStream?: StreamRequest;
  /**
   * The request that starts the job, sent once its stream is open: platforms that push
   * progress only to a socket already listening (image generation, ComfyUI). Its events are
   * the platform's answer; a rejection before the first progress fails the launch.
   */
  start?: (fetchImpl?: typeof fetch) => Promise<JobEvent[]>;
}

/**
 * What a platform says of a job id genwatch has not seen (opened by URL or id, registered by a
 * backend), asked before anything is opened for it: some streams answer any id, known or not.
 */
export type JobLookup =
  /**
   * The platform knows it: followed as `ref` says (an iteration, say), starting from `events`.
   * A job they say has finished is followed no further, unless its stream `replays` what it did.
   */
  | { state: 'found'; ref: JobRef; events: JobEvent[]; replays?: boolean }
  /** it knows no job by this id: `answer` in its own words; `final` when no job can take the id later */
  | { state: 'not-found'; answer: string; final: boolean }
  /** it cannot tell here (no such route on this deployment, or none for ids of this kind) */
  | { state: 'unknown'; detail?: string };

/**
 * A listing of jobs the platform's own code serves (CodeBegen's `GET /generations/`, ComfyUI's
 * queue): read as discovery, on unless a source turns it off.
 */
export interface PlatformListing {
  /** its name in a source's `listings` option and on its health row */
  id: string;
  /** what it reads, as the platform's docs would name it */
  label: string;
  /** how often it is read, unless the source says otherwise */
  intervalMs: number;
  /** what its entries are: running jobs, finished ones, or both */
  lists: 'running' | 'finished' | 'all';
  /** where it is, in the order to try */
  urls(source: Source): RouteCandidate[];
  parse(source: Source, body: string, receivedAt: number): JobSighting[] | { error: string; mismatches?: WireMismatch[] };
}

/**
 * Everything genwatch knows about one platform: URLs, auth, and how its messages become
 * JobEvents. Validation happens here; a bad message becomes a `protocol-error` event.
 */
export interface Dialect<LaunchRequest = unknown> {
  kind: PlatformKind;
  /** the platform's name wherever genwatch shows it */
  label: string;
  /** two letters for its badge */
  glyph: string;
  /** its badge colour, read on dark text in both themes */
  color: string;
  /** the message types this dialect reads (`family:*` for a family); others are unrecognized */
  messageTypes: readonly string[];
  authHeaders(source: Source): Record<string, string>;
  streamRequest(source: Source, job: JobRef): StreamRequest;
  /**
   * Where the job's state can be fetched, in the order to try (as for streams); absent, or
   * undefined for a job, when there is nothing to poll.
   */
  statusRequest?(source: Source, job: JobRef): { urls: RouteCandidate[]; route: string } | undefined;
  /** the stream sends only what happens from now on: fetch the state first */
  snapshotBeforeStream?: boolean;
  /** how often the platform sends a sign of life on an idle stream; 3x this without a byte means dead */
  heartbeatMs?: number;
  /** larger stream messages are rejected unread (default DEFAULT_MAX_EVENT_CHARS) */
  maxEventChars?: number;
  parseStreamMessage(context: WireContext, message: WireMessage): JobEvent[];
  parseStatus?(context: WireContext, body: string): JobEvent[];
  /** the launch form: its fields, their limits, and the request they make (see launch.ts) */
  launchSchema?: LaunchSchema<LaunchRequest>;
  /** starts a job from a request the launch schema produced */
  launch?(source: Source, request: LaunchRequest, fetchImpl?: typeof fetch): Promise<Launched>;
  /**
   * A new job made from a finished one and an instruction saying what to change (a CodeBegen
   * iteration); the platform's panel offers it.
   */
  followUp?(source: Source, parentJobId: string, instruction: string, fetchImpl?: typeof fetch): Promise<Launched>;
  parseDiscovery?(source: Source, body: string, receivedAt: number): JobSighting[] | { error: string; mismatches?: WireMismatch[] };
  /**
   * What the platform says of an id genwatch has not seen. Throws a TransportError when it
   * cannot be asked (a refused token, a platform away). Absent: the platform has no way to ask.
   */
  lookup?(source: Source, jobId: string, fetchImpl?: typeof fetch): Promise<JobLookup>;
  /** the listings its own code serves, read as discovery (a source's discoveryUrl is another) */
  listings?: readonly PlatformListing[];
}

/** a stream message longer than this (in UTF-16 code units, about bytes) is rejected unread */
export const DEFAULT_MAX_EVENT_CHARS = 256 * 1024;

/** a dialect whatever its launch request: what the registry holds */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each dialect checks its own requests with its launch schema
export type AnyDialect = Dialect<any>;
