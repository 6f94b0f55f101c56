import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import { jobKey } from '../model/job';
import { requestJson } from '../transports/http';
import type { Dialect, WireContext } from './dialect';
import { describeIssues, type Source } from './source';

// CodeBegen API v2 generation monitoring (codebegen-generation-monitoring.md).

const API = '/api/v2/generation';

const nullableNumber = v.optional(v.nullable(v.pipe(v.number(), v.finite())));

export const StreamingProgressEventSchema = v.object({
  generation_id: v.string(),
  status: v.picklist(['connected', 'processing', 'completed', 'failed', 'error', 'timeout', 'disconnected']),
  stage: v.string(),
  progress: v.pipe(v.number(), v.finite()),
  message: v.string(),
  ab_group: v.optional(v.nullable(v.string())),
  enhanced_features: v.optional(v.nullable(v.record(v.string(), v.boolean()))),
  generation_mode: v.optional(v.nullable(v.picklist(['classic', 'enhanced', 'auto']))),
  estimated_time_remaining: nullableNumber,
  current_file: v.optional(v.nullable(v.string())),
  partial_output: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  timestamp: v.pipe(v.number(), v.finite()),
});
export type StreamingProgressEvent = v.InferOutput<typeof StreamingProgressEventSchema>;

const isoDate = v.pipe(v.string(), v.check((value) => !Number.isNaN(Date.parse(value)), 'not an ISO 8601 date'));

export const GenerationStatusResponseSchema = v.object({
  generation_id: v.string(),
  status: v.picklist(['pending', 'processing', 'completed', 'failed']),
  created_at: isoDate,
  updated_at: isoDate,
  progress: v.pipe(v.number(), v.finite()),
  stage: v.string(),
  message: v.string(),
  current_event: v.optional(v.nullable(StreamingProgressEventSchema)),
  estimated_time_remaining: nullableNumber,
  has_events: v.boolean(),
  completed_at: v.optional(v.nullable(isoDate)),
  error: v.optional(v.nullable(v.string())),
});
export type GenerationStatusResponse = v.InferOutput<typeof GenerationStatusResponseSchema>;

const DiscoverySchema = v.object({
  generations: v.array(v.object({ ...GenerationStatusResponseSchema.entries, prompt: v.optional(v.string()) })),
});

const GenerateResponseSchema = v.object({
  generation_id: v.pipe(v.string(), v.minLength(1)),
  status: v.string(),
  prompt: v.optional(v.string()),
  created_at: v.optional(isoDate),
});

export interface CodebegenLaunchRequest {
  prompt: string;
  project_id?: string;
  generation_mode?: 'classic' | 'enhanced' | 'auto';
  tech_stack?: string;
  constraints?: string[];
}

const STREAM_STATUS: Partial<Record<StreamingProgressEvent['status'], JobStatus>> = {
  processing: 'running',
  completed: 'completed',
  failed: 'failed',
};
const POLL_STATUS: Record<GenerationStatusResponse['status'], JobStatus> = {
  pending: 'pending',
  processing: 'running',
  completed: 'completed',
  failed: 'failed',
};

function base(context: WireContext, at: number, raw?: string) {
  return {
    key: jobKey(context.source.id, context.jobId),
    sourceId: context.source.id,
    jobId: context.jobId,
    platform: 'codebegen' as const,
    at,
    receivedAt: context.receivedAt,
    raw,
  };
}

function protocolError(context: WireContext, raw: string, error: string): JobEvent {
  return { ...base(context, context.receivedAt, raw), kind: 'protocol-error', error };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `Malformed JSON: ${(error as Error).message}` };
  }
}

/** The guide's Unix timestamps are seconds. */
const fromUnixSeconds = (seconds: number) => Math.round(seconds * 1000);

function updateFromProgressEvent(event: StreamingProgressEvent): JobUpdate {
  const status = STREAM_STATUS[event.status];
  const update: JobUpdate = {
    status,
    stage: event.stage,
    progress: event.progress * 100,
    message: event.message,
  };
  if (event.current_file) update.currentFile = event.current_file;
  if (event.estimated_time_remaining != null) update.etaSeconds = event.estimated_time_remaining;
  if (event.partial_output) update.output = event.partial_output;
  if (status === 'failed') update.error = event.message;
  return update;
}

function snapshotEvent(context: WireContext, status: GenerationStatusResponse, raw?: string, title?: string): JobEvent {
  const current = status.current_event;
  const at = Math.max(Date.parse(status.updated_at), current ? fromUnixSeconds(current.timestamp) : 0);
  const update: JobUpdate = {
    status: POLL_STATUS[status.status],
    progress: status.progress * 100,
    stage: status.stage,
    message: status.message,
    createdAt: Date.parse(status.created_at),
  };
  if (title) update.title = title;
  if (current?.current_file) update.currentFile = current.current_file;
  const eta = status.estimated_time_remaining ?? current?.estimated_time_remaining;
  if (eta != null) update.etaSeconds = eta;
  if (current?.partial_output) update.output = current.partial_output;
  if (status.completed_at) update.finishedAt = Date.parse(status.completed_at);
  if (status.error) update.error = status.error;
  return { ...base(context, at, raw), kind: 'update', update, label: 'status' };
}

export const codebegenDialect: Dialect<CodebegenLaunchRequest> = {
  kind: 'codebegen',
  label: 'CodeBegen',

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, jobId) {
    return { url: `${source.baseUrl}${API}/${encodeURIComponent(jobId)}/stream`, method: 'GET' };
  },

  statusUrl(source, jobId) {
    return `${source.baseUrl}${API}/${encodeURIComponent(jobId)}/status`;
  },

  parseStreamMessage(context, message) {
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError(context, message.data, json.error)];
    const result = v.safeParse(StreamingProgressEventSchema, json.value);
    if (!result.success) return [protocolError(context, message.data, `Invalid progress event: ${describeIssues(result.issues)}`)];
    const event = result.output;
    if (event.generation_id !== context.jobId) {
      return [protocolError(context, message.data, `Event for another generation (${event.generation_id.slice(0, 80)})`)];
    }
    const at = fromUnixSeconds(event.timestamp);
    const common = { ...base(context, at, message.data), wireId: message.lastEventId || undefined };
    if (event.status === 'connected') {
      return [{ ...common, kind: 'notice', level: 'info', text: event.message || 'Stream connected' }];
    }
    if (event.status === 'error' || event.status === 'timeout' || event.status === 'disconnected') {
      // A stream-level problem, not the generation's: the job goes on, the transport recovers.
      return [{ ...common, kind: 'notice', level: 'warn', text: `${event.status}: ${event.message}` }];
    }
    return [{ ...common, kind: 'update', update: updateFromProgressEvent(event), label: event.stage }];
  },

  parseStatus(context, body) {
    const json = parseJson(body);
    if (!json.ok) return [protocolError(context, body, json.error)];
    const result = v.safeParse(GenerationStatusResponseSchema, json.value);
    if (!result.success) return [protocolError(context, body, `Invalid status response: ${describeIssues(result.issues)}`)];
    if (result.output.generation_id !== context.jobId) {
      return [protocolError(context, body, `Status of another generation (${result.output.generation_id.slice(0, 80)})`)];
    }
    return [snapshotEvent(context, result.output, body)];
  },

  async launch(source, request, fetchImpl) {
    const body = await requestJson(`${source.baseUrl}${API}/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.authHeaders(source) },
      body: JSON.stringify(request),
      fetch: fetchImpl,
    });
    const result = v.safeParse(GenerateResponseSchema, body);
    if (!result.success) throw new Error(`Unexpected answer to generate: ${describeIssues(result.issues)}`);
    const response = result.output;
    const receivedAt = Date.now();
    const context: WireContext = { source, jobId: response.generation_id, receivedAt };
    const createdAt = response.created_at ? Date.parse(response.created_at) : receivedAt;
    return {
      jobId: response.generation_id,
      finished: false,
      events: [{
        ...base(context, createdAt, JSON.stringify(body)),
        kind: 'update',
        label: 'started',
        update: { status: 'pending', title: response.prompt ?? request.prompt, createdAt, message: 'Generation started' },
      }],
    };
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    const result = v.safeParse(DiscoverySchema, json.value);
    if (!result.success) return { error: `Invalid discovery listing: ${describeIssues(result.issues)}` };
    return result.output.generations.map((generation) => ({
      jobId: generation.generation_id,
      finished: generation.status === 'completed' || generation.status === 'failed',
      events: [snapshotEvent({ source, jobId: generation.generation_id, receivedAt }, generation, undefined, generation.prompt)],
    }));
  },
};
