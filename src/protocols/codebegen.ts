import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import { jobKey } from '../model/job';
import { isTransportError, TransportError, type TransportErrorDetails } from '../transports/error';
import { requestJson } from '../transports/http';
import type { Dialect, JobRef, JobSighting, Launched, PlatformListing, WireContext } from './dialect';
import { lookupFirst } from './lookup';
import { requestFirst, routeBook } from './routes';
import type { Source } from './source';
import { checkWire, describeIssues, eventBase, invalid, parseJson, platformTime, protocolError, toPercent, typeName, unrecognized, wireTime } from './wire';

// CodeBegen: v2 generation monitoring and iterations. Written from the integration guides
// (codebegen-generation-monitoring.md, codebegen-iteration-sse.md) and from what the platform's
// own code sends (upstream-wire.md §1), which differ; both are read.
//
// What the platform really sends, beyond the guides: the stream lives at
// /api/v2/generation/generate/{id}/stream; frames have no SSE ids; every optional key is there
// as null; heartbeats are data frames (`status: "heartbeat"`, progress 0.0) about every 30 s;
// the stream ends with `stream_closing` (progress 1.0, even after a failure); /status answers
// 500 for every generation; /generations/iterate hands out no SSE token: each connection
// needs a fresh single-use one from /generations/generate/{id}/stream-token; an iteration
// reports `completed` (or `failed`) at `iteration_complete` (`iteration_error`) before its
// last stages, and its stream has no heartbeat at all.

const API = '/api/v2/generation';

const finite = v.pipe(v.number(), v.finite());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const maybe = <T extends v.GenericSchema>(schema: T) => v.optional(v.nullable(schema));

export const StreamingProgressEventSchema = v.looseObject({
  generation_id: maybe(v.string()),
  status: v.string(),
  stage: maybe(v.string()),
  progress: maybe(finite),
  message: maybe(v.string()),
  ab_group: maybe(v.string()),
  enhanced_features: maybe(v.record(v.string(), v.unknown())),
  generation_mode: maybe(v.string()),
  estimated_time_remaining: maybe(finite),
  current_file: maybe(v.string()),
  partial_output: maybe(v.record(v.string(), v.unknown())),
  // iteration (the guide; the platform's code builds it but its stream model drops it)
  phase_info: maybe(
    v.looseObject({
      total_phases: maybe(count),
      current_phase: maybe(count),
      entities_count: maybe(count),
      // a number, or text such as "2-4 (1/3)"
      phase: maybe(v.union([count, v.string()])),
      name: maybe(v.string()),
      files_generated: maybe(count),
      total_files: maybe(count),
    }),
  ),
  warning_type: maybe(v.string()),
  parent_file_count: maybe(count),
  new_file_count: maybe(count),
  error: maybe(v.string()),
  timestamp: wireTime,
});
export type StreamingProgressEvent = v.InferOutput<typeof StreamingProgressEventSchema>;

/**
 * The status endpoint (the guide: progress 0.0-1.0; the platform's code: the raw 0-100 value,
 * when it answers at all), and a generation record (/generations/{id}, listings).
 */
export const GenerationStatusResponseSchema = v.looseObject({
  generation_id: maybe(v.string()),
  id: maybe(v.string()),
  status: v.string(),
  created_at: wireTime,
  updated_at: wireTime,
  progress: maybe(finite),
  stage: maybe(v.string()),
  message: maybe(v.string()),
  current_event: maybe(v.record(v.string(), v.unknown())),
  estimated_time_remaining: maybe(finite),
  has_events: maybe(v.boolean()),
  completed_at: wireTime,
  error: maybe(v.string()),
  prompt: maybe(v.string()),
  variant: maybe(v.string()),
  is_iteration: maybe(v.boolean()),
  parent_generation_id: maybe(v.string()),
});
export type GenerationStatusResponse = v.InferOutput<typeof GenerationStatusResponseSchema>;

const DiscoverySchema = v.union([v.looseObject({ generations: v.array(GenerationStatusResponseSchema) }), v.array(GenerationStatusResponseSchema)]);

const IterateResponseSchema = v.looseObject({
  generation_id: v.pipe(v.string(), v.minLength(1)),
  // the guide hands the stream token out here; the platform's code does not
  sse_token: maybe(v.pipe(v.string(), v.minLength(1))),
  parent_generation_id: maybe(v.string()),
});

const StreamTokenSchema = v.looseObject({
  sse_token: v.pipe(v.string(), v.minLength(1)),
  stream_url: maybe(v.string()),
  expires_in: maybe(finite),
});

const GenerateResponseSchema = v.looseObject({
  generation_id: v.pipe(v.string(), v.minLength(1)),
  status: maybe(v.string()),
  prompt: maybe(v.string()),
  created_at: wireTime,
});

const blankToUndefined = (text: string) => text || undefined;

/** POST /generations/generate, as the launch form asks for it; the limits are the platform's own (it answers 422 outside them). */
export const CodebegenLaunchSchema = v.object({
  prompt: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('Describe what to generate.'),
    v.minLength(10, 'Say a little more: at least 10 characters.'),
    v.maxLength(5000, 'Keep the prompt under 5,000 characters.'),
    v.title('Prompt'),
    v.metadata({ multiline: 3, placeholder: 'Create a user management API with FastAPI', wide: true }),
  ),
  generation_mode: v.pipe(v.optional(v.picklist(['auto', 'enhanced', 'classic']), 'auto'), v.title('Generation mode')),
  tech_stack: v.pipe(
    v.optional(v.string(), 'fastapi_postgres'),
    v.trim(),
    v.title('Tech stack'),
    v.metadata({ suggestions: ['fastapi_postgres', 'express_mongo', 'django'] }),
    v.transform(blankToUndefined),
  ),
  project_id: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.regex(/^[\w.-]{0,100}$/, 'Letters, digits, dot, dash and underscore only.'),
    v.title('Project id (optional)'),
    v.metadata({ placeholder: 'proj_456' }),
    v.transform(blankToUndefined),
  ),
  constraints: v.pipe(
    v.optional(v.string(), 'dockerized, tested, authenticated'),
    v.title('Constraints (comma separated)'),
    v.metadata({ wide: true }),
    v.transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  ),
});
export type CodebegenLaunchRequest = v.InferOutput<typeof CodebegenLaunchSchema>;

/** Job statuses by the platform's words; anything missing here and below is unrecognized. */
const JOB_STATUS: Record<string, JobStatus> = {
  pending: 'pending',
  queued: 'pending',
  processing: 'running',
  started: 'running',
  running: 'running',
  in_progress: 'running',
  warning: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};
/** what the stream says about itself, not about the generation */
const STREAM_NOTICES: Record<string, 'info' | 'warn'> = {
  connected: 'info',
  stream_closing: 'info',
  timeout: 'warn',
  critical_error: 'warn',
  disconnected: 'warn',
};
export const CODEBEGEN_MESSAGE_TYPES = [...Object.keys(JOB_STATUS), ...Object.keys(STREAM_NOTICES), 'heartbeat', 'error'];

const base = (context: WireContext, at: number, raw?: string) => eventBase('codebegen', context, at, raw);

/** "2-4 (1/3)" is phase 2; 3 is phase 3. */
function phaseNumber(phase: number | string | null | undefined): number | undefined {
  if (typeof phase === 'number') return phase;
  const leading = typeof phase === 'string' ? /^\s*(\d+)/.exec(phase)?.[1] : undefined;
  return leading === undefined ? undefined : Number(leading);
}

function updateFromProgressEvent(event: StreamingProgressEvent, { withProgress = true, withStatus = true } = {}): JobUpdate {
  const status = withStatus ? JOB_STATUS[event.status] : undefined;
  const update: JobUpdate = {};
  if (status) update.status = status;
  if (event.stage) update.stage = event.stage;
  const progress = withProgress ? toPercent(event.progress, 'fraction') : undefined;
  if (progress !== undefined) update.progress = progress;
  if (event.message != null) update.message = event.message;
  if (event.current_file) update.currentFile = event.current_file;
  if (event.estimated_time_remaining != null) update.etaSeconds = event.estimated_time_remaining;
  if (event.partial_output) update.output = event.partial_output;
  if (status === 'failed') update.error = event.error ?? event.message ?? 'The generation failed';
  const info = event.phase_info;
  if (info?.total_phases != null) update.step = { current: info.current_phase ?? 0, total: info.total_phases, label: 'phases' };
  const phase = phaseNumber(info?.phase);
  if (info && phase !== undefined) {
    update.step = { current: phase, label: info.name ?? undefined };
    if (info.files_generated != null) {
      update.phaseFiles = { phase, name: info.name ?? `Phase ${phase}`, files: info.files_generated, totalFiles: info.total_files ?? undefined };
    }
  }
  // the guide marks a warning with warning_type; the platform's code with status "warning"
  if (event.warning_type || event.status === 'warning') update.warning = event.message ?? event.warning_type ?? 'Warning';
  return update;
}

/**
 * An iteration's orchestrator reports `completed` at `iteration_complete` (and `failed` at
 * `iteration_error`) before the router's last stages; the end is the router's `complete`, or
 * the generation's own status.
 */
function interimEnd(event: StreamingProgressEvent, context: WireContext): 'completed' | 'failed' | 'timeout' | undefined {
  if (context.variant !== 'iteration') return undefined;
  if (event.status === 'completed' && event.stage === 'iteration_complete') return 'completed';
  if (event.status === 'failed' && event.stage === 'iteration_error') return 'failed';
  // the /generations stream gives up after 60 s without any event, not the generation
  if (event.status === 'failed' && event.stage === 'timeout') return 'timeout';
  return undefined;
}

/**
 * A frame's identity where the platform sends no SSE id: a replay after a reconnect repeats it
 * exactly, and its timestamp (microseconds) and words tell it from any other. Without a
 * timestamp there is nothing to tell two equal frames apart, so nothing is taken for a repeat.
 * (Progress stays out: turning a double into text costs more than everything else here.)
 */
function contentKey(event: StreamingProgressEvent): string | undefined {
  return event.timestamp == null ? undefined : `${event.timestamp}|${event.status}|${event.stage ?? ''}|${event.message ?? ''}`;
}

/** A progress frame as events. */
function parseProgressFrame(context: WireContext, raw: string, id: string | undefined, event: StreamingProgressEvent): JobEvent[] {
  const at = platformTime(event.timestamp, context.receivedAt);
  const wireType = event.status;
  const common = { ...base(context, at, raw), wireType };
  const stageConnected = event.stage === 'connected' || event.status === 'connected';
  if (event.status === 'heartbeat') return [{ ...common, kind: 'heartbeat' }];
  if (stageConnected) {
    const events: JobEvent[] = [{ ...common, kind: 'notice', level: 'info', text: event.message || 'Stream connected' }];
    // an iteration's first frame carries the generation's status from the database
    const status = JOB_STATUS[event.status];
    if (status)
      events.push({
        ...common,
        kind: 'update',
        label: 'database status',
        update: status === 'failed' ? { status, error: event.error ?? event.message ?? 'The generation failed' } : { status },
      });
    return events;
  }
  if (STREAM_NOTICES[event.status]) {
    // the stream's own news: `stream_closing` says 1.0 even after a failure, so nothing of it is applied
    return [{ ...common, kind: 'notice', level: STREAM_NOTICES[event.status], text: `${event.status}: ${event.message ?? ''}`.trim() }];
  }
  const interim = interimEnd(event, context);
  if (interim === 'timeout') {
    return [{ ...common, kind: 'notice', level: 'warn', text: `The stream timed out waiting for events: ${event.message ?? ''}`.trim() }];
  }
  if (interim) {
    const update = updateFromProgressEvent(event, { withProgress: false, withStatus: false });
    if (interim === 'failed') update.warning = `The iteration reported an error and carries on: ${event.error ?? event.message ?? event.stage}`;
    return [{ ...common, kind: 'update', update, label: `interim ${interim}`, wireId: id || contentKey(event) }];
  }
  if (event.status === 'error') {
    // a stage went wrong; whether the generation failed, its `failed` frame says
    return [
      {
        ...common,
        kind: 'update',
        update: updateFromProgressEvent(event, { withProgress: false, withStatus: false }),
        label: 'error',
        wireId: id || contentKey(event),
      },
    ];
  }
  if (!JOB_STATUS[event.status]) return [unrecognized('codebegen', context, raw, wireType, at)];
  const update = updateFromProgressEvent(event);
  return [{ ...common, kind: 'update', update, label: update.warning ? 'warning' : (event.stage ?? event.status), wireId: id || contentKey(event) }];
}

/** Status, generation record or listing entry as one snapshot update. */
function snapshotEvent(context: WireContext, record: GenerationStatusResponse, raw?: string, label = 'status'): JobEvent {
  const current = record.current_event ?? undefined;
  const currentProgress = typeof current?.progress === 'number' ? current.progress : undefined;
  // the platform's code sends its raw 0-100 value here; the guide 0.0-1.0
  const scale = currentProgress !== undefined && currentProgress > 1 ? 'percent' : 'fraction';
  const updatedAt = platformTime(record.updated_at, context.receivedAt);
  const at = Math.max(updatedAt, current && current.timestamp != null ? platformTime(current.timestamp, context.receivedAt) : 0);
  const update: JobUpdate = {};
  const status = JOB_STATUS[record.status];
  if (status) update.status = status;
  const progress = toPercent(record.progress, scale);
  if (progress !== undefined) update.progress = progress;
  if (record.stage) update.stage = record.stage;
  if (record.message != null) update.message = record.message;
  if (record.created_at != null) update.createdAt = platformTime(record.created_at, context.receivedAt);
  if (record.prompt) update.title = record.prompt;
  if (typeof current?.current_file === 'string') update.currentFile = current.current_file;
  const eta = record.estimated_time_remaining ?? (typeof current?.estimated_time_remaining === 'number' ? current.estimated_time_remaining : undefined);
  if (eta != null) update.etaSeconds = eta;
  if (current?.partial_output && typeof current.partial_output === 'object') update.output = current.partial_output;
  if (record.completed_at != null) update.finishedAt = platformTime(record.completed_at, context.receivedAt);
  if (record.error) update.error = record.error;
  else if (status === 'failed') update.error = record.message ?? 'The generation failed';
  if (record.variant === 'iteration' || record.is_iteration) {
    update.variant = 'iteration';
    if (record.parent_generation_id) update.parentKey = jobKey(context.source.id, record.parent_generation_id);
  }
  return { ...base(context, at, raw), kind: 'update', update, label, wireType: record.status };
}

const recordId = (record: GenerationStatusResponse) => record.generation_id ?? record.id ?? undefined;

function transportError(status: number, message: string, extra: Partial<TransportErrorDetails> = {}): TransportError {
  return new TransportError({ kind: 'http', status, message, retryable: false, ...extra });
}

/**
 * The URL of one connection to an iteration's stream. A token handed out at launch (the guide)
 * is used as it is; otherwise a fresh single-use token is asked for every connection, since
 * the platform's tokens work once and live 60 s.
 */
async function iterationStreamUrl(source: Source, job: JobRef): Promise<{ url: string }> {
  const id = encodeURIComponent(job.jobId);
  if (job.secret) return { url: `${source.baseUrl}/generations/${id}/stream?token=${encodeURIComponent(job.secret)}` };
  if (!routeBook.isAbsent(source.baseUrl, 'stream-token')) {
    try {
      const { body } = await requestFirst(
        source.baseUrl,
        'stream-token',
        [{ variant: 'upstream', url: `${source.baseUrl}/generations/generate/${id}/stream-token` }],
        {
          method: 'POST',
          headers: codebegenDialect.authHeaders(source),
        },
      );
      const parsed = v.safeParse(StreamTokenSchema, body);
      if (!parsed.success) throw transportError(502, `Unexpected answer for a stream token: ${describeIssues(parsed.issues)}`);
      const url = new URL(parsed.output.stream_url || `/generations/generate/${id}/stream`, source.baseUrl);
      url.searchParams.set('token', parsed.output.sse_token);
      return { url: url.href };
    } catch (error) {
      // a finished generation gets no token: what it ended as is read from the generation itself
      if (isTransportError(error) && error.status === 400)
        throw error.with({ unavailable: true, message: `${error.message}: no stream any more, its final state is read instead` });
      if (!isTransportError(error) || !error.routeMissing) throw error;
    }
  }
  throw transportError(
    404,
    'This iteration streams only with the SSE token handed to whoever started it, and this browser does not have it; the platform issues no other.',
    { unavailable: true },
  );
}

export interface IterationRequest {
  parent_generation_id: string;
  modification_prompt: string;
}

/** POST /generations/iterate: a child generation, and the guide's SSE token when the platform hands one out. */
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
  const context: WireContext = { source, jobId, receivedAt: now, variant: 'iteration' };
  // the raw answer may hold the token: the log keeps only its shape
  const logged = JSON.stringify(secret ? { ...(body as object), sse_token: '[redacted]' } : body);
  return {
    ref: { jobId, variant: 'iteration', secret: secret ?? undefined },
    events: [
      {
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
      },
    ],
  };
}

/**
 * The platform's own listing (`GET /generations/`), one status at a time: it filters by
 * status server-side and pages at 100.
 */
function generationsListing(status: 'processing' | 'pending'): PlatformListing {
  return {
    id: status === 'processing' ? 'running' : 'pending',
    label: `GET /generations/?status=${status}`,
    intervalMs: 5000,
    lists: 'running',
    urls: (source) => [{ variant: 'upstream', url: `${source.baseUrl}/generations/?status=${status}&limit=100` }],
    parse: (source, body, receivedAt) => codebegenDialect.parseDiscovery!(source, body, receivedAt),
  };
}

export const codebegenDialect: Dialect<CodebegenLaunchRequest> = {
  kind: 'codebegen',
  label: 'CodeBegen',
  glyph: 'CB',
  color: '#38bdf8',
  messageTypes: CODEBEGEN_MESSAGE_TYPES,
  // The platform's code sends a heartbeat frame about every 30 s (the guide names none).
  heartbeatMs: 30_000,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    const id = encodeURIComponent(job.jobId);
    if (job.variant === 'iteration') {
      // The protocol puts the SSE token in the query string; genwatch keeps that URL in memory
      // only and shows `displayUrl` wherever a URL is shown.
      return {
        transport: 'sse',
        method: 'GET',
        urls: [],
        prepare: () => iterationStreamUrl(source, job),
        displayUrl: `${source.baseUrl}/generations/${id}/stream?token=[redacted]`,
        resumable: true,
        // the /generations stream sends no heartbeat: its silence says nothing
        heartbeatMs: null,
        drainMs: 1000,
        // it closes after an interim `completed`, and the platform grants 10 stream tokens a
        // minute per generation: reconnects are spaced to stay within that
        retryFloorMs: job.secret ? 0 : 6000,
      };
    }
    return {
      transport: 'sse',
      method: 'GET',
      route: 'stream',
      urls: routeBook.order(source.baseUrl, 'stream', [
        { variant: 'upstream', url: `${source.baseUrl}${API}/generate/${id}/stream` },
        { variant: 'guide', url: `${source.baseUrl}${API}/${id}/stream` },
      ]),
      resumable: true,
      // `stream_closing` follows the last status
      drainMs: 1000,
    };
  },

  statusRequest(source, job) {
    const id = encodeURIComponent(job.jobId);
    // the platform's code reads an iteration at /generations/{id}; the guide names nothing
    if (job.variant === 'iteration') return { route: 'generation', urls: [{ variant: 'upstream', url: `${source.baseUrl}/generations/${id}` }] };
    return { route: 'status', urls: [{ variant: 'both', url: `${source.baseUrl}${API}/${id}/status` }] };
  },

  parseStreamMessage(context, message) {
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError('codebegen', context, message.data, json.error)];
    const wireType = typeName(json.value, 'status');
    const result = checkWire(StreamingProgressEventSchema, json.value, 'progress event');
    if (!result.ok) return [invalid('codebegen', context, message.data, result, wireType)];
    const event = result.value;
    if (event.generation_id && event.generation_id !== context.jobId) {
      return [protocolError('codebegen', context, message.data, `Event for another generation (${event.generation_id.slice(0, 80)})`, { wireType })];
    }
    return parseProgressFrame(context, message.data, message.id || undefined, event);
  },

  parseStatus(context, body) {
    const json = parseJson(body);
    if (!json.ok) return [protocolError('codebegen', context, body, json.error)];
    const wireType = typeName(json.value, 'status');
    const result = checkWire(GenerationStatusResponseSchema, json.value, 'status response');
    if (!result.ok) return [invalid('codebegen', context, body, result, wireType)];
    const id = recordId(result.value);
    if (id && id !== context.jobId) return [protocolError('codebegen', context, body, `Status of another generation (${id.slice(0, 80)})`, { wireType })];
    if (!JOB_STATUS[result.value.status]) return [unrecognized('codebegen', context, body, result.value.status)];
    return [snapshotEvent(context, result.value, body)];
  },

  launchSchema: CodebegenLaunchSchema,

  followUp(source, parentJobId, instruction, fetchImpl) {
    return startIteration(source, { parent_generation_id: parentJobId, modification_prompt: instruction }, fetchImpl);
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
    const createdAt = platformTime(response.created_at, receivedAt);
    return {
      ref: { jobId: response.generation_id },
      events: [
        {
          ...base(context, createdAt, JSON.stringify(body)),
          kind: 'update',
          label: 'started',
          wireType: response.status ?? undefined,
          update: { status: 'pending', title: response.prompt ?? request.prompt, createdAt, message: 'Generation started' },
        },
      ],
    };
  },

  listings: [generationsListing('processing'), generationsListing('pending')],

  // The v2 stream answers any id with heartbeats, and an iteration streams elsewhere: the
  // generation's own row (the /generations router) says whether it exists and what it is;
  // the guide's deployments answer at /status.
  lookup(source, jobId, fetchImpl) {
    const id = encodeURIComponent(jobId);
    return lookupFirst(
      source,
      'lookup',
      [
        { variant: 'upstream', url: `${source.baseUrl}/generations/${id}` },
        { variant: 'guide', url: `${source.baseUrl}${API}/${id}/status` },
      ],
      { headers: codebegenDialect.authHeaders(source), fetch: fetchImpl },
      (body) => {
        const context: WireContext = { source, jobId, receivedAt: Date.now() };
        const text = JSON.stringify(body);
        const result = checkWire(GenerationStatusResponseSchema, body, 'generation');
        if (!result.ok) return { state: 'unknown', detail: `its answer did not read as a generation: ${result.error}` };
        const record = result.value;
        const other = recordId(record);
        if (other && other !== jobId) return { state: 'unknown', detail: `it answered with another generation (${other.slice(0, 80)})` };
        const variant = record.is_iteration || record.variant === 'iteration' ? 'iteration' : undefined;
        // the v2 stream sends a finished generation's stored events again (its stages); an iteration's stream does not
        return { state: 'found', ref: { jobId, variant }, events: [snapshotEvent(context, record, text, 'lookup')], replays: variant !== 'iteration' };
      },
    );
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    // the demo's listing, or the platform's own GET /generations/
    const result = checkWire(DiscoverySchema, json.value, 'generation listing');
    if (!result.ok) return { error: result.error, mismatches: result.mismatches };
    const records = Array.isArray(result.value) ? result.value : result.value.generations;
    return records.flatMap((record): JobSighting[] => {
      const jobId = recordId(record);
      if (!jobId) return [];
      const event = snapshotEvent({ source, jobId, receivedAt }, record, undefined, 'listing');
      const variant = record.variant === 'iteration' || record.is_iteration ? 'iteration' : undefined;
      const status = JOB_STATUS[record.status];
      return [{ jobId, variant, finished: status === 'completed' || status === 'failed' || status === 'cancelled', events: [event] }];
    });
  },
};
