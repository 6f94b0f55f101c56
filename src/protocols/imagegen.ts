import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { Dialect, WireContext } from './dialect';
import { describeIssues, type Source } from './source';
import { eventBase, isoToMs, parseWire, protocolError, sameOriginUrl, updateEvent } from './wire';
import { requestJson } from '../transports/http';

// Image generation (imagegen-websocket-progress.md): a WebSocket per task, opened before the
// POST that starts it; the POST answers when the image is done.

const finite = v.pipe(v.number(), v.finite());
const step = v.pipe(v.number(), v.integer(), v.minValue(0));

export const ImagegenMessageSchema = v.variant('type', [
  v.object({ type: v.literal('keep-alive') }),
  v.object({
    type: v.literal('progress'),
    task_id: v.string(),
    status: v.picklist(['generating', 'completed', 'failed']),
    current_step: v.optional(step),
    total_steps: v.optional(step),
    percentage: v.optional(finite),
    current_stage: v.optional(v.string()),
    elapsed_time: v.optional(finite),
    estimated_remaining: v.optional(finite),
    message: v.optional(v.string()),
    timestamp: v.optional(v.string()),
    error: v.optional(v.string()),
    image_url: v.optional(v.string()),
  }),
]);

const GenerateResponseSchema = v.object({
  success: v.boolean(),
  task_id: v.optional(v.string()),
  image_url: v.optional(v.string()),
  message: v.optional(v.string()),
  error: v.optional(v.string()),
});

const ListingSchema = v.object({
  tasks: v.array(v.object({
    taskId: v.string(),
    prompt: v.string(),
    status: v.picklist(['generating', 'completed', 'failed']),
    step: step,
    total: step,
    stage: v.string(),
    startedAt: v.string(),
    updatedAt: v.string(),
    imageUrl: v.optional(v.string()),
    error: v.optional(v.string()),
  })),
});

export interface ImagegenLaunchRequest {
  prompt: string;
  use_generation?: boolean;
  use_refinement?: boolean;
  high_quality?: boolean;
}

export const imagegenDialect: Dialect<ImagegenLaunchRequest> & {
  /** the POST that starts a task whose socket is already open */
  startTask(source: Source, taskId: string, request: ImagegenLaunchRequest, fetchImpl?: typeof fetch): Promise<JobEvent[]>;
} = {
  kind: 'imagegen',
  label: 'Image generation',
  heartbeatMs: 30_000,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    const url = new URL(`/ws/image-generation/${encodeURIComponent(job.jobId)}`, source.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return { transport: 'websocket', url: url.href };
  },

  parseStreamMessage(context, message): JobEvent[] {
    const parsed = parseWire(ImagegenMessageSchema, message.data, 'image progress message');
    if (!parsed.ok) return [protocolError('imagegen', context, message.data, parsed.error)];
    const wire = parsed.value;
    if (wire.type === 'keep-alive') return [{ ...eventBase('imagegen', context, context.receivedAt), kind: 'heartbeat' }];
    if (wire.task_id !== context.jobId) return [protocolError('imagegen', context, message.data, `Message for another task (${wire.task_id.slice(0, 80)})`)];
    const at = isoToMs(wire.timestamp, context.receivedAt);
    // no ids on this socket: the same step at the same time is the same message
    const wireId = `${wire.status}|${wire.current_stage ?? ''}|${wire.current_step ?? ''}|${wire.timestamp ?? ''}`;
    if (wire.status === 'failed') {
      return [updateEvent('imagegen', context, at, { status: 'failed', error: wire.error ?? wire.message ?? 'Generation failed', message: wire.message, stage: 'failed' }, 'failed', message.data)];
    }
    const update: JobUpdate = { status: wire.status === 'completed' ? 'completed' : 'running', message: wire.message };
    if (wire.percentage !== undefined) update.progress = wire.percentage;
    if (wire.current_stage) update.stage = wire.current_stage;
    if (wire.estimated_remaining !== undefined) update.etaSeconds = wire.estimated_remaining;
    if (wire.current_step !== undefined) update.step = { current: wire.current_step, total: wire.total_steps, label: wire.current_stage };
    if (wire.current_step !== undefined && wire.total_steps !== undefined && wire.elapsed_time !== undefined) {
      update.sample = {
        elapsed: wire.elapsed_time,
        step: wire.current_step,
        totalSteps: wire.total_steps,
        stage: wire.current_stage ?? 'base_model',
        estimatedRemaining: wire.estimated_remaining,
        at: context.receivedAt,
      };
    }
    if (wire.image_url) {
      const image = sameOriginUrl(wire.image_url, context.source.baseUrl);
      if (image) update.imageUrl = image;
      else return [updateEvent('imagegen', context, at, update, wire.status, message.data), protocolError('imagegen', context, message.data, 'image_url is not an http(s) URL of the platform: not shown')];
    }
    return [{ ...updateEvent('imagegen', context, at, update, wire.status === 'completed' ? 'completed' : 'progress', message.data), wireId }];
  },

  validateLaunch(request) {
    const prompt = request.prompt?.trim() ?? '';
    if (!prompt) return { prompt: 'Describe the image.' };
    if (prompt.length > 2000) return { prompt: 'Keep the prompt under 2,000 characters.' };
    return undefined;
  },

  async launch(source, request) {
    // The guide: the client picks the task id and opens the socket before starting the task.
    const now = Date.now();
    const jobId = `task-${now}-${Math.random().toString(36).slice(2, 7)}`;
    const context: WireContext = { source, jobId, receivedAt: now };
    return {
      ref: { jobId },
      events: [updateEvent('imagegen', context, now, { status: 'pending', title: request.prompt.trim(), createdAt: now, message: 'Opening the progress socket' }, 'started')],
    };
  },

  async startTask(source, taskId, request, fetchImpl) {
    const body = await requestJson(`${source.baseUrl}/api/media/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.authHeaders(source) },
      body: JSON.stringify({ use_generation: true, ...request, prompt: request.prompt.trim(), task_id: taskId }),
      fetch: fetchImpl,
    });
    const context: WireContext = { source, jobId: taskId, receivedAt: Date.now() };
    const result = v.safeParse(GenerateResponseSchema, body);
    if (!result.success) return [protocolError('imagegen', context, JSON.stringify(body), `Invalid generate response: ${describeIssues(result.issues)}`)];
    const answer = result.output;
    if (!answer.success) {
      return [updateEvent('imagegen', context, context.receivedAt, { status: 'failed', error: answer.error ?? answer.message ?? 'Generation failed', message: answer.message }, 'result', JSON.stringify(body))];
    }
    const update: JobUpdate = { status: 'completed', progress: 100, message: answer.message ?? 'Image generated' };
    const image = answer.image_url ? sameOriginUrl(answer.image_url, source.baseUrl) : undefined;
    if (image) update.imageUrl = image;
    return [updateEvent('imagegen', context, context.receivedAt, update, 'result', JSON.stringify(body))];
  },

  parseDiscovery(source, body, receivedAt) {
    const parsed = parseWire(ListingSchema, body, 'image task listing');
    if (!parsed.ok) return { error: parsed.error };
    return parsed.value.tasks.map((task) => {
      const context: WireContext = { source, jobId: task.taskId, receivedAt };
      const status = task.status === 'generating' ? 'running' : task.status;
      const update: JobUpdate = {
        status,
        title: task.prompt,
        stage: task.stage,
        createdAt: isoToMs(task.startedAt, receivedAt),
        progress: task.total ? (task.step / task.total) * 100 : 0,
      };
      if (task.error) update.error = task.error;
      const image = task.imageUrl ? sameOriginUrl(task.imageUrl, source.baseUrl) : undefined;
      if (image) update.imageUrl = image;
      return { jobId: task.taskId, finished: status !== 'running', events: [updateEvent('imagegen', context, isoToMs(task.updatedAt, receivedAt), update, 'listing')] };
    });
  },
};
