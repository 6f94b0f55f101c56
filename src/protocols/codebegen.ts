import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import { jobKey } from '../model/job';
import { requestJson } from '../transports/http';
import type { Dialect, Launched, WireContext } from './dialect';
import { describeIssues, type Source } from './source';
import { eventBase, isoDate, parseJson, protocolError } from './wire';

// CodeBegen API v2 generation monitoring (codebegen-generation-monitoring.md).

const API = '/api/v2/generation';

const nullableNumber = v.optional(v.nullable(v.pipe(v.number(), v.finite())));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

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
  // iteration (codebegen-iteration-sse.md)
  phase_info: v.optional(v.nullable(v.object({
    total_phases: v.optional(count),
    current_phase: v.optional(count),
    entities_count: v.optional(count),
    phase: v.optional(count),
    name: v.optional(v.string()),
    files_generated: v.optional(count),
    total_files: v.optional(count),
  }))),
  warning_type: v.optional(v.string()),
  parent_file_count: v.optional(count),
  new_file_count: v.optional(count),
  error: v.optional(v.nullable(v.string())),
  timestamp: v.pipe(v.number(), v.finite()),
});
export type StreamingProgressEvent = v.InferOutput<typeof StreamingProgressEventSchema>;


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
  generations: v.array(v.object({
    ...GenerationStatusResponseSchema.entries,
    prompt: v.optional(v.string()),
    variant: v.optional(v.string()),
    parent_generation_id: v.optional(v.string()),
  })),
});

const IterateResponseSchema = v.object({
  generation_id: v.pipe(v.string(), v.minLength(1)),
  sse_token: v.pipe(v.string(), v.minLength(1)),
  parent_generation_id: v.optional(v.string()),
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

const base = (context: WireContext, at: number, raw?: string) => eventBase('codebegen', context, at, raw);

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
  if (status === 'failed') update.error = event.error ?? event.message;
  const info = event.phase_info;
  if (info?.total_phases !== undefined) update.step = { current: info.current_phase ?? 0, total: info.total_phases, label: 'phases' };
  if (info?.phase !== undefined) {
    update.step = { current: info.phase, label: info.name };
    if (info.files_generated !== undefined) {
      update.phaseFiles = { phase: info.phase, name: info.name ?? `Phase ${info.phase}`, files: info.files_generated, totalFiles: info.total_files };
    }
  }
  if (event.warning_type) update.warning = event.message;
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

export interface IterationRequest {
  parent_generation_id: string;
  modification_prompt: string;
}

/** POST /generations/iterate: a child generation and the SSE token that alone can stream it. */
export async function startIteration(source: Source, request: IterationRequest, fetchImpl?: typeof fetch): Promise<Launched> {
  const body = await requestJson(`${source.baseUrl}/generations/iterate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...codebegenDialect.authHeaders(source) },
    body: JSON.stringify(request),
    fetch: fetchImpl,
  });
  const result = v.safeParse(IterateResponseSchema, body);
  if (!result.success) throw new Error(`Unexpected answer to iterate: ${describeIssues(result.issues)}`);
  const { generation_id: jobId, sse_token: secret } = result.output;
  const now = Date.now();
  const context: WireContext = { source, jobId, receivedAt: now };
  // the raw answer holds the token: the log keeps only its shape
  const logged = JSON.stringify({ ...(body as object), sse_token: '[redacted]' });
  return {
    ref: { jobId, variant: 'iteration', secret },
    events: [{
      ...base(context, now, logged),
      kind: 'update',
      label: 'started',
      update: {
        status: 'pending',
        title: request.modification_prompt,
        createdAt: now,
        variant: 'iteration',
        parentKey: jobKey(source.id, request.parent_generation_id),
        message: 'Iteration started',
      },
    }],
  };
}

export const codebegenDialect: Dialect<CodebegenLaunchRequest> = {
  kind: 'codebegen',
  label: 'CodeBegen',
  // The guide names no heartbeat; 15 s is what its streams are seen to send (SSE comments).
  heartbeatMs: 15_000,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    const id = encodeURIComponent(job.jobId);
    if (job.variant === 'iteration') {
      if (!job.secret) {
        return {
          transport: 'none',
          reason: 'This iteration streams only with the SSE token handed to whoever started it, and this browser does not have it. Its status here comes from the source listing.',
        };
      }
      // The protocol puts the SSE token in the query string; genwatch keeps this URL in
      // memory only and shows `displayUrl` wherever a URL is shown.
      const url = `${source.baseUrl}/generations/${id}/stream?token=${encodeURIComponent(job.secret)}`;
      return { transport: 'sse', method: 'GET', url, displayUrl: `${source.baseUrl}/generations/${id}/stream?token=[redacted]`, resumable: true, headers: {} };
    }
    return { transport: 'sse', url: `${source.baseUrl}${API}/${id}/stream`, method: 'GET', resumable: true };
  },

  statusUrl(source, job) {
    // The iteration guide has no status endpoint.
    return job.variant === 'iteration' ? undefined : `${source.baseUrl}${API}/${encodeURIComponent(job.jobId)}/status`;
  },

  parseStreamMessage(context, message) {
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError('codebegen', context, message.data, json.error)];
    const result = v.safeParse(StreamingProgressEventSchema, json.value);
    if (!result.success) return [protocolError('codebegen', context, message.data, `Invalid progress event: ${describeIssues(result.issues)}`)];
    const event = result.output;
    if (event.generation_id !== context.jobId) {
      return [protocolError('codebegen', context, message.data, `Event for another generation (${event.generation_id.slice(0, 80)})`)];
    }
    const at = fromUnixSeconds(event.timestamp);
    const common = { ...base(context, at, message.data), wireId: message.id || undefined };
    if (event.status === 'connected') {
      return [{ ...common, kind: 'notice', level: 'info', text: event.message || 'Stream connected' }];
    }
    if (event.status === 'error' || event.status === 'timeout' || event.status === 'disconnected') {
      // A stream-level problem, not the generation's: the job goes on, the transport recovers.
      return [{ ...common, kind: 'notice', level: 'warn', text: `${event.status}: ${event.message}` }];
    }
    return [{ ...common, kind: 'update', update: updateFromProgressEvent(event), label: event.warning_type ? 'warning' : event.stage }];
  },

  parseStatus(context, body) {
    const json = parseJson(body);
    if (!json.ok) return [protocolError('codebegen', context, body, json.error)];
    const result = v.safeParse(GenerationStatusResponseSchema, json.value);
    if (!result.success) return [protocolError('codebegen', context, body, `Invalid status response: ${describeIssues(result.issues)}`)];
    if (result.output.generation_id !== context.jobId) {
      return [protocolError('codebegen', context, body, `Status of another generation (${result.output.generation_id.slice(0, 80)})`)];
    }
    return [snapshotEvent(context, result.output, body)];
  },

  validateLaunch(request) {
    const problems: Record<string, string> = {};
    if (!request.prompt?.trim()) problems.prompt = 'Describe what to generate.';
    else if (request.prompt.length > 10_000) problems.prompt = 'Keep the prompt under 10,000 characters.';
    if (request.project_id && !/^[\w.-]{1,100}$/.test(request.project_id)) problems.project_id = 'Letters, digits, dot, dash and underscore only.';
    return Object.keys(problems).length ? problems : undefined;
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
      ref: { jobId: response.generation_id },
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
    return result.output.generations.map((generation) => {
      const event = snapshotEvent({ source, jobId: generation.generation_id, receivedAt }, generation, undefined, generation.prompt);
      if (event.kind === 'update' && generation.variant) {
        event.update.variant = generation.variant;
        if (generation.parent_generation_id) event.update.parentKey = jobKey(source.id, generation.parent_generation_id);
      }
      return {
        jobId: generation.generation_id,
        variant: generation.variant,
        finished: generation.status === 'completed' || generation.status === 'failed',
        events: [event],
      };
    });
  },
};
