import type { JobEvent } from '../model/events';
import type { PlatformKind } from '../model/job';
import type { Source } from './source';

/**
 * What genwatch holds about one job beyond its ids: its variant and, for platforms that hand
 * out per-job credentials (a CodeBegen iteration's sse_token), that secret. Memory only.
 */
export interface JobRef {
  jobId: string;
  variant?: string;
  secret?: string;
  /** the request that started it from this dashboard, to start the same again */
  request?: unknown;
}

export type StreamRequest =
  | {
      transport: 'sse';
      url: string;
      method: 'GET' | 'POST';
      body?: string;
      headers?: Record<string, string>;
      /** false where reconnecting would start something new (a POST that is the job) */
      resumable: boolean;
      /** the same URL with its credentials masked, for anything shown or logged */
      displayUrl?: string;
    }
  | { transport: 'websocket'; url: string; displayUrl?: string }
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
}

export interface WireContext {
  source: Source;
  jobId: string;
  receivedAt: number;
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
  /** what the start request still has to say when it answers late (image generation) */
  outcome?: Promise<JobEvent[]>;
}

/**
 * Everything genwatch knows about one platform: URLs, auth, and how its messages become
 * JobEvents. Validation happens here; a bad message becomes a `protocol-error` event.
 */
export interface Dialect<LaunchRequest = unknown> {
  kind: PlatformKind;
  label: string;
  authHeaders(source: Source): Record<string, string>;
  streamRequest(source: Source, job: JobRef): StreamRequest;
  /** absent (or undefined for a job) when there is nothing to poll */
  statusUrl?(source: Source, job: JobRef): string | undefined;
  /** the stream sends only what happens from now on: fetch the state first */
  snapshotBeforeStream?: boolean;
  /** how often the platform sends a sign of life on an idle stream; 3x this without a byte means dead */
  heartbeatMs?: number;
  /** larger stream messages are rejected unread (default DEFAULT_MAX_EVENT_CHARS) */
  maxEventChars?: number;
  parseStreamMessage(context: WireContext, message: WireMessage): JobEvent[];
  parseStatus?(context: WireContext, body: string): JobEvent[];
  /** checks a launch request; returns messages per field, or nothing when it is fine */
  validateLaunch?(request: LaunchRequest): Record<string, string> | undefined;
  launch?(source: Source, request: LaunchRequest, fetchImpl?: typeof fetch): Promise<Launched>;
  parseDiscovery?(source: Source, body: string, receivedAt: number): JobSighting[] | { error: string };
}

/** a stream message longer than this (in UTF-16 code units, about bytes) is rejected unread */
export const DEFAULT_MAX_EVENT_CHARS = 256 * 1024;
