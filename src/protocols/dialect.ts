import type { JobEvent } from '../model/events';
import type { PlatformKind } from '../model/job';
import type { Source } from './source';

export interface StreamRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
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
}

/**
 * Everything genwatch knows about one platform: URLs, auth, and how its messages become
 * JobEvents. Validation happens here; a bad message becomes a `protocol-error` event.
 */
export interface Dialect<LaunchRequest = unknown> {
  kind: PlatformKind;
  label: string;
  authHeaders(source: Source): Record<string, string>;
  streamRequest(source: Source, jobId: string): StreamRequest;
  /** absent when the platform has no polling endpoint */
  statusUrl?(source: Source, jobId: string): string;
  parseStreamMessage(context: WireContext, message: { data: string; event: string; lastEventId: string }): JobEvent[];
  parseStatus?(context: WireContext, body: string): JobEvent[];
  launch?(source: Source, request: LaunchRequest, fetchImpl?: typeof fetch): Promise<JobSighting>;
  parseDiscovery?(source: Source, body: string, receivedAt: number): JobSighting[] | { error: string };
}
