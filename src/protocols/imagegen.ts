import * as v from 'valibot';
import { promptField } from './launch';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import type { Dialect, JobSighting, WireContext } from './dialect';
import { requestFirst, routeBook } from './routes';
import type { Source } from './source';
import {
  checkWire,
  eventBase,
  invalid,
  parseJson,
  platformTime,
  protocolError,
  sameOriginUrl,
  toPercent,
  typeName,
  unrecognized,
  updateEvent,
  wireTime,
} from './wire';

// Image generation over a WebSocket per task. The guide (imagegen-websocket-progress.md): the
// client picks a task id, opens /ws/image-generation/{id}, POSTs /api/media/generate, and the
// platform pushes progress every step. The platform's code (upstream-wire.md §4), also read:
// the socket is /api/ws/image-generation/{id}?token= (a bad token is an HTTP 403 at the
// handshake), only the final frame is pushed and per-step progress must be asked for with
// {"type":"get_progress"}, the socket is never closed by the server, timestamps have no zone,
// and the task starts with POST /api/media/generate-image, which answers when the image is done.

const finite = v.pipe(v.number(), v.finite());
const step = v.pipe(v.number(), v.integer(), v.minValue(0));
const maybe = <T extends v.GenericSchema>(schema: T) => v.optional(v.nullable(schema));

const STATUS: Record<string, JobStatus> = {
  pending: 'pending',
  generating: 'running',
  processing: 'running',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const ImagegenProgressSchema = v.looseObject({
  type: v.literal('progress'),
  task_id: maybe(v.string()),
  status: v.picklist(Object.keys(STATUS)),
  current_step: maybe(step),
  total_steps: maybe(step),
  percentage: maybe(finite),
  current_stage: maybe(v.string()),
  elapsed_time: maybe(finite),
  estimated_remaining: maybe(finite),
  message: maybe(v.string()),
  timestamp: wireTime,
  error: maybe(v.string()),
  image_url: maybe(v.string()),
});
type Progress = v.InferOutput<typeof ImagegenProgressSchema>;

const SIGNS_OF_LIFE = new Set(['keep-alive', 'pong']);
export const IMAGEGEN_MESSAGE_TYPES = ['progress', 'status', ...SIGNS_OF_LIFE];

const GenerateResponseSchema = v.looseObject({
  success: v.boolean(),
  task_id: maybe(v.string()),
  // the guide: a URL; the platform's code: a path on its own disk, "" on failure
  image_url: maybe(v.string()),
  image: maybe(v.looseObject({ url: maybe(v.string()) })),
  message: maybe(v.string()),
  error: maybe(v.string()),
  local_path: maybe(v.string()),
  generation_time: maybe(finite),
});

const ListingSchema = v.looseObject({
  tasks: v.array(
    v.looseObject({
      taskId: v.string(),
      prompt: v.string(),
      status: v.string(),
      step: step,
      total: step,
      stage: v.string(),
      startedAt: wireTime,
      updatedAt: wireTime,
      imageUrl: maybe(v.string()),
      error: maybe(v.string()),
    }),
  ),
});

export const ImagegenLaunchSchema = v.object({
  // the platform's own limits (it answers 422 outside them)
  prompt: promptField({ describe: 'the image', max: 500, lines: 2, placeholder: 'A lighthouse at dusk, oil painting' }),
  use_refinement: v.pipe(v.optional(v.boolean(), true), v.title('Refine (second stage)')),
  high_quality: v.pipe(v.optional(v.boolean(), false), v.title('High quality (more steps)')),
});
export type ImagegenLaunchRequest = v.InferOutput<typeof ImagegenLaunchSchema>;

/** The platform's later global socket wraps the fields in `data`, with `taskId`. */
function unwrap(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const data = record.data;
  if (record.status !== undefined || !data || typeof data !== 'object') return value;
  const inner = data as Record<string, unknown>;
  return { type: record.type, timestamp: record.timestamp, ...inner, task_id: inner.task_id ?? inner.taskId };
}

function progressUpdate(wire: Progress, context: WireContext): JobUpdate {
  const status = STATUS[wire.status];
  if (status === 'failed') {
    return { status, error: wire.error ?? wire.message ?? 'Generation failed', message: wire.message ?? undefined, stage: 'failed' };
  }
  const update: JobUpdate = { status, message: wire.message ?? undefined };
  const percentage = toPercent(wire.percentage, 'percent');
  if (percentage !== undefined) update.progress = percentage;
  if (wire.current_stage) update.stage = wire.current_stage;
  if (wire.estimated_remaining != null) update.etaSeconds = wire.estimated_remaining;
  if (wire.current_step != null) update.step = { current: wire.current_step, total: wire.total_steps ?? undefined, label: wire.current_stage || undefined };
  if (status === 'running' && wire.current_step != null && wire.total_steps && wire.elapsed_time != null && wire.elapsed_time >= 0) {
    update.sample = {
      elapsed: wire.elapsed_time,
      step: wire.current_step,
      totalSteps: wire.total_steps,
      stage: wire.current_stage || 'base_model',
      estimatedRemaining: wire.estimated_remaining ?? undefined,
      at: context.receivedAt,
    };
  }
  return update;
}

function socketUrl(source: Source, path: string, token?: string): string {
  const url = new URL(path, source.baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);
  return url.href;
}

export const imagegenDialect: Dialect<ImagegenLaunchRequest> = {
  kind: 'imagegen',
  label: 'Image generation',
  glyph: 'IM',
  color: '#f472b6',
  messageTypes: IMAGEGEN_MESSAGE_TYPES,
  heartbeatMs: 30_000,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    const id = encodeURIComponent(job.jobId);
    return {
      transport: 'websocket',
      route: 'socket',
      urls: routeBook.order(source.baseUrl, 'socket', [
        // the socket needs the token in its URL: browsers send no headers with a WebSocket
        { variant: 'upstream', url: socketUrl(source, `/api/ws/image-generation/${id}`, source.token) },
        { variant: 'guide', url: socketUrl(source, `/ws/image-generation/${id}`) },
      ]),
      displayUrl: socketUrl(source, `/api/ws/image-generation/${id}`, source.token ? '[redacted]' : undefined),
      // the platform pushes only the final frame: the steps are asked for
      outgoing: { every: { text: JSON.stringify({ type: 'get_progress' }), ms: 1000 } },
      handshakeProbeUrl: new URL('/', source.baseUrl).href,
    };
  },

  parseStreamMessage(context, message): JobEvent[] {
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError('imagegen', context, message.data, json.error)];
    const value = unwrap(json.value);
    const wireType = typeName(value, 'type');
    if (wireType && SIGNS_OF_LIFE.has(wireType)) return [{ ...eventBase('imagegen', context, context.receivedAt), kind: 'heartbeat', wireType }];
    if (wireType === 'status') {
      const text = typeName(value, 'message') ?? 'Waiting for generation to start...';
      return [{ ...eventBase('imagegen', context, context.receivedAt, message.data), kind: 'notice', level: 'info', text, wireType }];
    }
    if (wireType !== 'progress') {
      if (wireType) return [unrecognized('imagegen', context, message.data, wireType)];
      return [
        protocolError('imagegen', context, message.data, 'A message without a type', {
          mismatches: [{ path: 'type', expected: '"progress" | "status" | "keep-alive" | "pong"', received: 'undefined' }],
        }),
      ];
    }
    const parsed = checkWire(ImagegenProgressSchema, value, 'image progress message');
    if (!parsed.ok) return [invalid('imagegen', context, message.data, parsed, wireType)];
    const wire = parsed.value;
    if (wire.task_id && wire.task_id !== context.jobId)
      return [protocolError('imagegen', context, message.data, `Message for another task (${wire.task_id.slice(0, 80)})`, { wireType })];
    const at = platformTime(wire.timestamp, context.receivedAt);
    const update = progressUpdate(wire, context);
    const label = update.status === 'completed' ? 'final frame' : update.status === 'failed' ? 'failed' : 'progress';
    // no ids on this socket: the same state is the same message (an answer to a poll, a repeat)
    const wireId = `${wire.status}|${wire.current_stage ?? ''}|${wire.current_step ?? ''}|${wire.percentage ?? ''}|${wire.timestamp ?? ''}|${wire.message ?? ''}`;
    const events: JobEvent[] = [{ ...updateEvent('imagegen', context, at, update, label, message.data), wireId, wireType }];
    if (wire.image_url) {
      const image = sameOriginUrl(wire.image_url, context.source.baseUrl);
      if (image) update.imageUrl = image;
      else
        events.push(
          protocolError('imagegen', context, message.data, 'image_url is not an http(s) URL of the platform: not shown', {
            wireType,
            mismatches: [{ path: 'image_url', expected: 'an http(s) URL on the platform', received: wire.image_url.slice(0, 80) }],
          }),
        );
    }
    return events;
  },

  launchSchema: ImagegenLaunchSchema,

  async launch(source, request) {
    // The client picks the task id and opens the socket before starting the task.
    const now = Date.now();
    const jobId = `task-${now}-${Math.random().toString(36).slice(2, 7)}`;
    const context: WireContext = { source, jobId, receivedAt: now };
    return {
      ref: { jobId },
      events: [
        updateEvent('imagegen', context, now, { status: 'pending', title: request.prompt, createdAt: now, message: 'Opening the progress socket' }, 'started'),
      ],
      // the guide's order: socket open first, then the POST, which answers only at the end
      start: (fetchImpl) => startImageTask(source, jobId, request, fetchImpl),
    };
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    const parsed = checkWire(ListingSchema, json.value, 'image task listing');
    if (!parsed.ok) return { error: parsed.error, mismatches: parsed.mismatches };
    return parsed.value.tasks.map((task): JobSighting => {
      const context: WireContext = { source, jobId: task.taskId, receivedAt };
      const status = STATUS[task.status] ?? 'running';
      const update: JobUpdate = {
        status,
        title: task.prompt,
        stage: task.stage || undefined,
        createdAt: platformTime(task.startedAt, receivedAt),
        progress: task.total ? (task.step / task.total) * 100 : 0,
      };
      if (task.error) update.error = task.error;
      const image = task.imageUrl ? sameOriginUrl(task.imageUrl, source.baseUrl) : undefined;
      if (image) update.imageUrl = image;
      return {
        jobId: task.taskId,
        finished: status !== 'running' && status !== 'pending',
        events: [updateEvent('imagegen', context, platformTime(task.updatedAt, receivedAt), update, 'listing')],
      };
    });
  },
};

/** POST generate for a task whose socket is already open: its answer comes when the image is done. */
export async function startImageTask(source: Source, taskId: string, request: ImagegenLaunchRequest, fetchImpl?: typeof fetch): Promise<JobEvent[]> {
  const body = JSON.stringify({
    prompt: request.prompt,
    task_id: taskId,
    // the platform's code fetches a stock photo first unless told not to, and then runs nothing
    use_pexels: false,
    use_generation: true,
    use_refinement: request.use_refinement ?? false,
    high_quality: request.high_quality ?? false,
    num_inference_steps: request.high_quality ? 50 : 30,
  });
  const { body: answer } = await requestFirst(
    source.baseUrl,
    'generate',
    routeBook.order(source.baseUrl, 'generate', [
      { variant: 'upstream', url: `${source.baseUrl}/api/media/generate-image` },
      { variant: 'guide', url: `${source.baseUrl}/api/media/generate` },
    ]),
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...imagegenDialect.authHeaders(source) }, body, fetch: fetchImpl },
  );
  const context: WireContext = { source, jobId: taskId, receivedAt: Date.now() };
  const raw = JSON.stringify(answer);
  const result = checkWire(GenerateResponseSchema, answer, 'generate response');
  if (!result.ok) return [invalid('imagegen', context, raw, result, 'launch answer')];
  const output = result.value;
  if (!output.success) {
    return [
      {
        ...updateEvent(
          'imagegen',
          context,
          context.receivedAt,
          { status: 'failed', error: output.error ?? output.message ?? 'Generation failed', message: output.message ?? undefined },
          'launch answer',
          raw,
        ),
        wireType: 'launch answer',
      },
    ];
  }
  const update: JobUpdate = { status: 'completed', progress: 100, message: output.message ?? 'Image generated' };
  const image =
    (output.image_url ? sameOriginUrl(output.image_url, source.baseUrl) : undefined) ??
    (output.image?.url ? sameOriginUrl(output.image.url, source.baseUrl) : undefined);
  if (image) update.imageUrl = image;
  // the platform's code answers with a path on its own disk: kept, said, never used as a URL
  else if (output.image_url || output.local_path)
    update.output = { savedAt: output.local_path ?? output.image_url, generationTime: output.generation_time ?? undefined };
  return [{ ...updateEvent('imagegen', context, context.receivedAt, update, 'launch answer', raw), wireType: 'launch answer' }];
}
